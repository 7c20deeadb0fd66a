// ServiceNotify: tells a service manager (systemd's Type=notify, and anything
// speaking the same protocol) when a daemon is ready and when it stops.
//
// The protocol is one datagram per state change, "READY=1" or
// "STOPPING=1", sent to the AF_UNIX socket named by $NOTIFY_SOCKET (a path,
// or an abstract name written with a leading '@'). Without that variable
// nothing is sent: the daemon was not started by such a manager.
//
// Why it matters: with Type=exec the unit counts as started once the binary
// runs, so `systemctl start` returns and a unit ordered After= it starts
// before the server listens, and a `systemctl reload` (SIGHUP) can reach the
// process while it is still loading, before it blocks the signal, when
// SIGHUP's default action ends it. With Type=notify systemd holds both until
// READY=1. Written here, a few lines, rather than linking libsystemd.
#ifndef SKILLSTORE_COMMON_SERVICE_NOTIFY_H_
#define SKILLSTORE_COMMON_SERVICE_NOTIFY_H_

#include <string_view>

#include "absl/status/status.h"

namespace skillstore {

// Sends `state` ("READY=1\nSTATUS=listening on ...") to $NOTIFY_SOCKET. OK
// when sent or when the variable is unset; an error (for a log line) when
// the socket cannot be reached: the daemon runs on either way.
absl::Status NotifyServiceManager(std::string_view state);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_SERVICE_NOTIFY_H_
