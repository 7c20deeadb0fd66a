#include "connection_driver.h"

#include <chrono>
#include <utility>

namespace skillstore::worker {
namespace {

// How long one watch lasts: the bound on stopping, and on how late a state
// change seen by nobody else is noticed. Polling an idle channel four times
// a second costs nothing measurable.
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
    // try_to_connect=false: the worker's own calls decide when to connect;
    // this only polls while an attempt is under way (or the channel is
    // ready, when there is nothing to do).
    const grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/false);
    channel_->WaitForStateChange(state, std::chrono::system_clock::now() + kWatchPeriod);
  }
}

}  // namespace skillstore::worker
