#include "connection_driver.h"

#include <chrono>
#include <utility>

namespace skillstore::worker {
namespace {

// How long one watch lasts: the bound on stopping, and on how late a state
// change seen by nobody else is noticed. Polling an idle channel four times
// a second costs nothing measurable; a ready channel is only looked at.
constexpr std::chrono::milliseconds kWatchPeriod(250);

}  // namespace

ConnectionDriver::ConnectionDriver(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), thread_([this] { Loop(); }) {}

ConnectionDriver::~ConnectionDriver() {
  stopping_.store(true);
  thread_.join();
}

void ConnectionDriver::Loop() {
  while (!stopping_.load()) {
    // try_to_connect=false: the worker's own calls decide when to connect.
    const grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/false);
    if (state == GRPC_CHANNEL_CONNECTING || state == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      channel_->WaitForStateChange(state, std::chrono::system_clock::now() + kWatchPeriod);
    } else {
      // Ready (the worker's calls poll it), idle (a call will start an
      // attempt) or shut down: nothing to drive. A watch here would make
      // this thread poll the connection, taking a share of the worker's
      // network work for nothing (~2% more instructions per tiny task).
      std::this_thread::sleep_for(kWatchPeriod);
    }
  }
}

}  // namespace skillstore::worker
