// A small star of network namespaces for the partition test: one "hub"
// namespace (the server), N "leaf" namespaces (workers), each joined to the
// hub by its own veth pair and subnet, plus one veth pair from the test's own
// namespace to the hub so the test can talk to the server. Needs root;
// everything is removed in the destructor (deleting a namespace deletes its
// veth ends, and with them their peers).
//
//   root ns   10.231.0.1 <-> 10.231.0.2   hub (server)
//   leaf i    10.231.i.2 <-> 10.231.i.1   hub
#ifndef SKILLSTORE_TESTS_FAULT_NETNS_H_
#define SKILLSTORE_TESTS_FAULT_NETNS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace skillstore::fault {

class NetnsStar {
 public:
  // Names are derived from the pid, so parallel runs do not collide.
  explicit NetnsStar(int leaves);
  ~NetnsStar();
  NetnsStar(const NetnsStar&) = delete;
  NetnsStar& operator=(const NetnsStar&) = delete;

  // Creates the namespaces and links. On failure (not root, no netns
  // support) returns the error with the command's output.
  absl::Status Create();

  const std::string& hub() const { return hub_; }
  const std::string& leaf(int i) const { return leaves_[i]; }  // 1-based
  // The hub's address as seen from the test process / from leaf i.
  std::string HubAddressFromRoot() const { return "10.231.0.2"; }
  std::string HubAddressFromLeaf(int i) const { return "10.231." + std::to_string(i) + ".1"; }

  // {"/usr/sbin/ip", "netns", "exec", name}: prefix for a command run inside.
  std::vector<std::string> ExecPrefix(const std::string& ns) const;

  // Takes leaf i's link down (both ends) / up again: a partition in which
  // packets are silently dropped, as when a cable or a route fails.
  absl::Status Cut(int i);
  absl::Status Heal(int i);

 private:
  std::string ip_;  // path of the ip binary
  std::string prefix_;
  std::string hub_;
  std::vector<std::string> leaves_;  // [0] unused
  std::vector<std::string> created_;
  bool root_link_ = false;
};

}  // namespace skillstore::fault

#endif  // SKILLSTORE_TESTS_FAULT_NETNS_H_
