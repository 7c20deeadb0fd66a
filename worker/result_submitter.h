// Streams finished results to the server over ONE long-lived SubmitResult
// stream and matches the server's acknowledgements to them.
//
// Design:
//   * A writer thread owns the stream: it opens it when there is something to
//     send (never while idle and disconnected), writes pending results in
//     order, and tears the stream down when it breaks.
//   * A reader thread per stream reads acknowledgements; each removes the
//     matching (task id, fencing token) from the ResultBuffer and is passed to
//     `on_ack` (accepted or rejected — both are final for that lease). It
//     wakes the writer only when nothing is left in flight. Every message
//     sets accepts_ack_batches, so a server that knows it answers several
//     results per message (more_acks), matched under one lock; an older
//     server answers one per message, read the same way.
//   * Small results share a stream message (more_results) once a claim
//     showed the server reads them (accepts_result_batches).
//   * The writer borrows the results it writes from the ResultBuffer (moves
//     them into the stream messages and back), so a result is never copied.
//   * Break or server restart: the writer cancels the stream, joins the
//     reader, puts every unacknowledged result back in front of the pending
//     ones, waits an exponential backoff with jitter and reopens. The server
//     decides per result by its lease, so re-sending is safe.
//   * An in-flight result unacknowledged for `ack_timeout` means a stream that
//     silently died (network partition): the stream is recycled.
//   * Permanent errors (UNAUTHENTICATED, PERMISSION_DENIED, ...) go to
//     `on_fatal`; the worker then exits non-zero.
//   * A result the server keeps refusing (the stream fails with a server-side
//     error other than UNAVAILABLE every time it is sent, e.g. too large) is
//     replaced after `max_delivery_failures` by a short non-retryable failure
//     naming the problem, so one bad result cannot block all the others.
//
// Thread-safe.
#ifndef SKILLSTORE_WORKER_RESULT_SUBMITTER_H_
#define SKILLSTORE_WORKER_RESULT_SUBMITTER_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "result_buffer.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::worker {

class ResultSubmitter {
 public:
  // Results written back to back before the writer looks at the buffer again.
  static constexpr size_t kMaxWriteBatch = 64;
  // How long a result may wait for others to share its write while earlier
  // ones are still unacknowledged.
  static constexpr absl::Duration kLinger = absl::Milliseconds(1);
  // Results packed into one stream message (more_results) stop at this many
  // bytes of result and error text, so big results still go one by one.
  static constexpr size_t kMaxMessageBytes = 256 << 10;

  using Result = skillstore::v1::SubmitResultRequest;
  using Ack = skillstore::v1::SubmitResultResponse;
  using Acked = ResultBuffer::Acked;

  struct Options {
    size_t max_buffered_results = 10000;
    absl::Duration ack_timeout = absl::Seconds(60);
    absl::Duration backoff_initial = absl::Milliseconds(100);
    absl::Duration backoff_max = absl::Seconds(5);
    int max_delivery_failures = 5;
  };

  // `on_ack` and `on_fatal` are called on the submitter's threads, without
  // its lock held; they must not call Stop().
  ResultSubmitter(skillstore::v1::SkillStore::StubInterface* stub, Options options,
                  std::function<void(const Acked&, const Ack&)> on_ack,
                  std::function<void(absl::Status)> on_fatal);
  ~ResultSubmitter();  // Stop(absl::InfinitePast())

  ResultSubmitter(const ResultSubmitter&) = delete;
  ResultSubmitter& operator=(const ResultSubmitter&) = delete;

  void Start();

  // Queues a result for sending.
  void Add(Result result);

  // Whether the server reads several results per stream message
  // (ClaimTaskResponse.accepts_result_batches, told by every claim).
  void SetServerAcceptsBatches(bool accepts) { server_accepts_batches_.store(accepts); }

  // Drops a result not yet sent whose lease the server declared gone.
  void DiscardPending(const std::string& task_id, int64_t fencing_token);

  // True when the buffer is at its bound: stop claiming until it drains.
  bool Full() const;
  // Results not yet acknowledged.
  size_t size() const;

  // Waits until every result is acknowledged or `deadline` passes. True when
  // the buffer is empty.
  bool WaitUntilEmpty(absl::Time deadline);

  // Stops the threads. Closes the stream politely when everything was
  // acknowledged; otherwise cancels it (unacknowledged results are lost and
  // their leases expire on the server). Idempotent.
  void Stop();

 private:
  void WriterLoop();
  // Runs one stream until it breaks or Stop(). Returns its final status and
  // whether any acknowledgement arrived on it.
  grpc::Status RunOneStream(bool* got_ack);

  skillstore::v1::SkillStore::StubInterface* const stub_;
  const Options options_;
  const std::function<void(const Acked&, const Ack&)> on_ack_;
  const std::function<void(absl::Status)> on_fatal_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  ResultBuffer buffer_;      // guarded by mu_
  bool stop_ = false;        // guarded by mu_
  bool stream_broken_ = false;  // guarded by mu_; set by the reader
  grpc::ClientContext* stream_context_ = nullptr;  // guarded by mu_; the open stream
  std::thread writer_;
  std::atomic<bool> server_accepts_batches_{false};
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_RESULT_SUBMITTER_H_
