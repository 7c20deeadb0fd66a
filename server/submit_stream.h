// The reactor behind one SubmitResult stream: reads results ahead (bounded),
// hands each to the write loop, and writes the acknowledgements back in order,
// each only after the COMMIT that made its result durable. A message may carry
// several results (more_results); each is a separate operation with its own
// acknowledgement, exactly as if it had come in its own message. When the
// client set accepts_ack_batches, the acknowledgements that queued up while a
// write was in flight go out together in the next message (more_acks): with
// short tasks that is one message per commit instead of one per result.
//
// The stream carries raw bytes, parsed here: gRPC reports a message it cannot
// parse to a typed reactor exactly like the client's half-close, so the stream
// would end with status OK and that result (and every later one) silently
// unacknowledged. Parsed here, such a message ends the stream with
// INVALID_ARGUMENT once the results before it are acknowledged.
#ifndef SKILLSTORE_SERVER_SUBMIT_STREAM_H_
#define SKILLSTORE_SERVER_SUBMIT_STREAM_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <deque>
#include <memory>
#include <mutex>

#include "authorizer.h"
#include "in_flight.h"
#include "skillstore/v1/skillstore.pb.h"
#include "write_loop.h"

namespace skillstore::server {

class SubmitStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // Each result counts in `in_flight` from its read to its acknowledgement
  // (an idle stream does not hold up shutdown; it is cancelled). A result
  // whose worker_id `grant` does not allow is rejected (WRONG_WORKER) unread
  // by the write loop.
  SubmitStream(WriteLoop& write_loop, InFlightRpcs& in_flight, Grant grant);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  // Results read but not yet acknowledged; reading pauses at this many.
  static constexpr int kMaxInFlight = 256;

  // One result on its way through the write loop: the request as read and
  // the acknowledgement the write loop makes for it (one allocation).
  struct PendingResult {
    v1::SubmitResultRequest request;
    v1::SubmitResultResponse response;
    // Carried more_results of its own, or came in such a list: refused,
    // each with its own acknowledgement.
    bool nested_too_deep = false;
  };

  // Adds a result of more_results to `results`, then the results nested in
  // it: each one nested deeper (`inside_nested`, or carrying results of its
  // own) is marked nested_too_deep.
  static void AddNested(v1::SubmitResultRequest result, bool inside_nested,
                        std::vector<std::unique_ptr<PendingResult>>* results);
  // Hands one result to the write loop (or answers it invalid at once).
  void Submit(std::unique_ptr<PendingResult> result);
  // Queues an acknowledgement; starts writing it when no write is in flight.
  void Respond(v1::SubmitResultResponse response);
  // Moves the next acknowledgement (all queued ones, when batching) from
  // pending_ into writing_message_; false when none is queued. Called with
  // mu_ held and no write in flight.
  bool TakeNextWriteLocked(grpc::WriteOptions* options);
  // Serializes writing_message_ into writing_bytes_ and starts its write.
  void StartWriteOfMessage(grpc::WriteOptions options);
  // Resumes reading / finishes the stream as the counters allow; called
  // without mu_ held.
  void Advance();

  WriteLoop& write_loop_;
  InFlightRpcs& results_in_flight_;
  const Grant grant_;
  bool refusal_logged_ = false;      // a result refused by grant_ was logged (reads only)
  grpc::ByteBuffer read_bytes_;      // read buffer (only one read in flight)
  v1::SubmitResultRequest request_;  // read_bytes_ parsed
  int64_t messages_read_ = 0;        // for the message naming one that does not parse

  std::mutex mu_;
  int in_flight_ = 0;        // read, not yet acknowledged (or dropped)
  bool reading_ = false;     // a read is outstanding
  bool reads_done_ = false;  // the client half-closed or went away, or sent bytes that do not parse
  bool writing_ = false;     // a write is outstanding
  bool broken_ = false;      // a write failed: drop further acknowledgements
  bool finished_ = false;
  grpc::Status final_status_;                     // OK unless a message did not parse
  bool batch_acks_ = false;                       // the client reads more_acks
  std::deque<v1::SubmitResultResponse> pending_;  // acknowledgements not yet written
  // The message being written (stable address while writing_) and how many
  // acknowledgements it carries.
  v1::SubmitResultResponse writing_message_;
  grpc::ByteBuffer writing_bytes_;  // writing_message_ serialized
  int acks_in_writing_ = 0;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_SUBMIT_STREAM_H_
