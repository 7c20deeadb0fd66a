#include "result_submitter.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backoff.h"
#include "rpc_status.h"
#include "spdlog/spdlog.h"

namespace skillstore::worker {
namespace {

// After a polite WritesDone, how long to wait for the server to close the
// stream before cancelling it.
constexpr auto kCloseGrace = std::chrono::seconds(2);

std::chrono::system_clock::time_point ToChrono(absl::Time t) {
  if (t == absl::InfiniteFuture()) return std::chrono::system_clock::time_point::max();
  if (t == absl::InfinitePast()) return std::chrono::system_clock::time_point::min();
  return absl::ToChronoTime(t);
}

// Failures that say nothing about the result itself: the connection dropped,
// the server went away or we cancelled.
bool IsConnectionLevel(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return true;
    default:
      return false;
  }
}

}  // namespace

ResultSubmitter::ResultSubmitter(skillstore::v1::SkillStore::StubInterface* stub,
                                 Options options,
                                 std::function<void(const Acked&, const Ack&)> on_ack,
                                 std::function<void(absl::Status)> on_fatal)
    : stub_(stub),
      options_(options),
      on_ack_(std::move(on_ack)),
      on_fatal_(std::move(on_fatal)),
      buffer_(options.max_buffered_results) {}

ResultSubmitter::~ResultSubmitter() { Stop(); }

void ResultSubmitter::Start() { writer_ = std::thread([this] { WriterLoop(); }); }

void ResultSubmitter::Add(Result result) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    buffer_.Add(std::move(result));
    // The writer needs waking for the first pending result (it may sleep
    // with nothing to send) and for a full batch; in between it lingers
    // (see kLinger), so a run of short tasks costs one wake-up per batch.
    wake = buffer_.pending() == 1 || buffer_.pending() >= kMaxWriteBatch;
  }
  if (wake) cv_.notify_all();
}

void ResultSubmitter::DiscardPending(const std::string& task_id, int64_t fencing_token) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!buffer_.DiscardPending(task_id, fencing_token)) return;
  }
  cv_.notify_all();
}

bool ResultSubmitter::Full() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buffer_.Full();
}

size_t ResultSubmitter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buffer_.size();
}

bool ResultSubmitter::WaitUntilEmpty(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, ToChrono(deadline), [this] { return buffer_.empty() || stop_; });
  return buffer_.empty();
}

void ResultSubmitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    // A writer blocked in Write (server not reading) must not hold up the
    // exit; with results still unacknowledged the stream is cancelled anyway.
    if (stream_context_ != nullptr && !buffer_.empty()) stream_context_->TryCancel();
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void ResultSubmitter::WriterLoop() {
  Backoff backoff(options_.backoff_initial, options_.backoff_max);
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Connect only when there is something to send.
      cv_.wait(lock, [this] { return stop_ || buffer_.HasPending(); });
      if (stop_) return;
    }
    bool got_ack = false;
    const grpc::Status status = RunOneStream(&got_ack);

    std::vector<Result> poisoned;
    bool stopping = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      poisoned = buffer_.RequeueInFlight(/*count_delivery_failure=*/!IsConnectionLevel(status),
                                         options_.max_delivery_failures);
      // A result the server refuses again and again: send a short failure in
      // its place so the task ends with a reason instead of blocking the rest.
      for (Result& result : poisoned) {
        if (!result.success() || result.error().rfind("result could not be delivered", 0) == 0) {
          spdlog::error("task {}: giving up on delivering its result ({}); its lease will expire",
                        result.task_id(), status.error_message());
          continue;
        }
        spdlog::error("task {}: the server refused its result {} times ({}: {}); reporting a "
                      "failure instead",
                      result.task_id(), options_.max_delivery_failures,
                      static_cast<int>(status.error_code()), status.error_message());
        result.set_success(false);
        result.set_retryable(false);
        result.clear_result_json();
        result.set_error(absl::StrCat("result could not be delivered: the server refused it ",
                                      options_.max_delivery_failures, " times: ",
                                      status.error_message()));
        buffer_.Add(std::move(result));
      }
      stopping = stop_;
    }
    if (stopping) return;
    if (IsPermanentForStream(status)) {
      // main() logs the reason once, as the worker's last line.
      spdlog::debug("SubmitResult refused permanently: {}",
                    ToAbslStatus("SubmitResult", status).ToString());
      on_fatal_(ToAbslStatus("SubmitResult", status));
      return;
    }
    if (got_ack) backoff.Reset();
    const absl::Duration delay = backoff.Next();
    if (backoff.failures() == 1) {
      spdlog::warn("result stream to the server broke ({}: {}); {} results to resend; "
                   "reconnecting with backoff",
                   static_cast<int>(status.error_code()), status.error_message(), size());
    } else {
      spdlog::debug("result stream reconnect failed ({}); retrying in {}", status.error_message(),
                    absl::FormatDuration(delay));
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, ToChrono(absl::Now() + delay), [this] { return stop_; });
    if (stop_) return;
  }
}

grpc::Status ResultSubmitter::RunOneStream(bool* got_ack) {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriterInterface<Result, Ack>> stream =
      stub_->SubmitResult(&context);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stream_broken_ = false;
    stream_context_ = &context;
  }

  std::thread reader([&] {
    Ack ack;
    // One message may carry several acknowledgements (more_acks, from a
    // server that saw accepts_ack_batches): all are matched under one lock.
    std::vector<std::pair<std::optional<Acked>, const Ack*>> acked;
    while (stream->Read(&ack)) {
      acked.clear();
      bool wake;
      {
        std::lock_guard<std::mutex> lock(mu_);
        acked.emplace_back(buffer_.Acknowledge(ack.task_id(), ack.fencing_token()), &ack);
        for (const Ack& more : ack.more_acks()) {
          acked.emplace_back(buffer_.Acknowledge(more.task_id(), more.fencing_token()), &more);
        }
        *got_ack = true;
        // An acknowledgement matters to a waiter only when nothing is in
        // flight any more: the writer then sends pending results without
        // lingering, and WaitUntilEmpty may be done. (An ack only moves the
        // writer's ack-timeout deadline later.) Waking the writer for every
        // acknowledgement cost a context switch per result.
        wake = buffer_.in_flight() == 0;
      }
      if (wake) cv_.notify_all();
      for (const auto& [result, one] : acked) {
        if (result) {
          on_ack_(*result, *one);
        } else {
          spdlog::debug("acknowledgement for task {} token {} matches no pending result",
                        one->task_id(), one->fencing_token());
        }
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream_broken_ = true;
    }
    cv_.notify_all();
  });

  bool polite_close = false;
  std::vector<Result> messages;  // reused: one allocation per stream, not per batch
  while (true) {
    ResultBuffer::Lent lent;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Wake for new results, a broken stream, Stop(), or when the oldest
      // unacknowledged result reaches the ack timeout.
      while (true) {
        if (stop_ || stream_broken_) break;
        if (buffer_.HasPending()) {
          // While earlier results still await their acknowledgement the
          // stream is busy anyway: linger up to kLinger for more results so
          // they go out together (one wake-up and few TCP segments for many
          // short tasks). With nothing in flight, send at once.
          const absl::Time send_by = *buffer_.OldestPendingSince() + kLinger;
          if (buffer_.in_flight() == 0 || buffer_.pending() >= kMaxWriteBatch ||
              absl::Now() >= send_by) {
            break;
          }
          cv_.wait_until(lock, ToChrono(send_by));
          continue;
        }
        std::optional<absl::Time> oldest = buffer_.OldestInFlightSince();
        if (oldest && absl::Now() >= *oldest + options_.ack_timeout) break;
        if (oldest) {
          cv_.wait_until(lock, ToChrono(*oldest + options_.ack_timeout));
        } else {
          cv_.wait(lock);
        }
      }
      if (stop_) {
        polite_close = buffer_.empty();
        break;
      }
      if (stream_broken_) break;
      if (!buffer_.HasPending()) {
        spdlog::warn("no acknowledgement from the server for {}; recycling the result stream",
                     absl::FormatDuration(options_.ack_timeout));
        break;
      }
      // Everything pending goes out together: the writes of one batch are
      // coalesced into few TCP segments (buffer hint on all but the last,
      // which flushes), and this thread wakes once per batch, not per result.
      lent = buffer_.Lend(absl::Now(), kMaxWriteBatch);
    }
    // With a server that reads more_results, small results share messages
    // (each still gets its own acknowledgement); otherwise one per message.
    // The results are moved, not copied, into the messages and back out.
    messages.clear();
    const bool pack = server_accepts_batches_.load() && lent.results.size() > 1;
    size_t bytes = kMaxMessageBytes;  // start a new message at once
    for (Result& result : lent.results) {
      const size_t size = result.result_json().size() + result.error().size();
      if (!pack || bytes + size > kMaxMessageBytes) {
        messages.push_back(std::move(result));
        bytes = size;
      } else {
        *messages.back().add_more_results() = std::move(result);
        bytes += size;
      }
    }
    bool broken = false;
    for (size_t i = 0; i < messages.size() && !broken; ++i) {
      // Several acknowledgements per message too (a server that does not
      // know the field answers one per message, which the reader takes the
      // same way).
      messages[i].set_accepts_ack_batches(true);
      grpc::WriteOptions write_options;
      if (i + 1 < messages.size()) write_options.set_buffer_hint();
      broken = !stream->Write(messages[i], write_options);  // the reader sees the break too
    }
    // Unpack in the order packed, so lent.results[i] is again entries[i]'s.
    size_t next = 0;
    for (Result& message : messages) {
      google::protobuf::RepeatedPtrField<Result> more;
      more.Swap(message.mutable_more_results());
      message.clear_accepts_ack_batches();
      lent.results[next++] = std::move(message);
      for (Result& result : more) lent.results[next++] = std::move(result);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      buffer_.Return(std::move(lent));
    }
    if (broken) break;
  }

  if (polite_close) {
    stream->WritesDone();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, kCloseGrace, [this] { return stream_broken_; });
  }
  context.TryCancel();  // no-op when the stream already ended
  reader.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stream_context_ = nullptr;
  }
  return stream->Finish();
}

}  // namespace skillstore::worker
