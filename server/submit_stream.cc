#include "submit_stream.h"

#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "codec.h"
#include "common/json_text.h"
#include "common/utf8.h"
#include "spdlog/spdlog.h"

namespace skillstore::server {
namespace {

// A failure's error text is stored with the task (last_error) and its
// attempt, and sent back in every listing of the task: past this size it is
// cut, so one worker's megabyte of stack trace cannot make a ListTasks page
// too large for a client to receive.
constexpr size_t kMaxStoredErrorBytes = 16 << 10;

void CutLongError(std::string* error) {
  if (error->size() <= kMaxStoredErrorBytes) return;
  const size_t whole = error->size();
  error->resize(Utf8PrefixLength(*error, kMaxStoredErrorBytes));  // a protobuf string: UTF-8
  absl::StrAppend(error, "... (cut: ", whole, " bytes)");
}

}  // namespace

SubmitStream::SubmitStream(WriteLoop& write_loop, InFlightRpcs& in_flight, Grant grant)
    : write_loop_(write_loop), results_in_flight_(in_flight), grant_(std::move(grant)) {
  reading_ = true;
  StartRead(&read_bytes_);
}

void SubmitStream::OnReadDone(bool ok) {
  grpc::Status parsed;
  if (ok) {
    ++messages_read_;
    const size_t size = read_bytes_.Length();
    parsed =
        grpc::SerializationTraits<v1::SubmitResultRequest>::Deserialize(&read_bytes_, &request_);
    if (!parsed.ok()) {
      // protobuf's parser says no more than that the bytes do not parse.
      parsed = grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("message ", messages_read_,
                       " of this SubmitResult stream is not a skillstore.v1.SubmitResultRequest: "
                       "its ",
                       size,
                       " bytes do not parse (a malformed field, a string field that is not "
                       "UTF-8, or messages nested over 100 deep); the results before it are "
                       "acknowledged, it and any after it were not read"));
      spdlog::warn("SubmitResult stream of '{}' ended: {}", grant_.label, parsed.error_message());
    }
  }
  if (!ok || !parsed.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      reading_ = false;
      reads_done_ = true;
      final_status_ = std::move(parsed);
    }
    Advance();
    return;
  }
  const bool batch_acks = request_.accepts_ack_batches();
  // The message's results: itself, then any carried in more_results (each
  // acknowledged on its own, in this order).
  std::vector<std::unique_ptr<PendingResult>> results;
  results.reserve(1 + request_.more_results_size());
  google::protobuf::RepeatedPtrField<v1::SubmitResultRequest> more;
  more.Swap(request_.mutable_more_results());
  results.push_back(std::make_unique<PendingResult>());
  results.back()->request = std::move(request_);
  request_.Clear();
  for (v1::SubmitResultRequest& result : more) {
    AddNested(std::move(result), /*inside_nested=*/false, &results);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    reading_ = false;
    batch_acks_ = batch_acks_ || batch_acks;
    in_flight_ += static_cast<int>(results.size());
  }
  for (size_t i = 0; i < results.size(); ++i) results_in_flight_.Begin();
  for (std::unique_ptr<PendingResult>& result : results) Submit(std::move(result));
  Advance();
}

void SubmitStream::AddNested(v1::SubmitResultRequest result, bool inside_nested,
                             std::vector<std::unique_ptr<PendingResult>>* results) {
  // Deeper results are listed after their parent, depth first, so none of
  // them goes unanswered.
  google::protobuf::RepeatedPtrField<v1::SubmitResultRequest> deeper;
  deeper.Swap(result.mutable_more_results());
  results->push_back(std::make_unique<PendingResult>());
  results->back()->request = std::move(result);
  results->back()->nested_too_deep = inside_nested || !deeper.empty();
  for (v1::SubmitResultRequest& inner : deeper) {
    AddNested(std::move(inner), /*inside_nested=*/true, results);
  }
}

void SubmitStream::Submit(std::unique_ptr<PendingResult> result) {
  const v1::SubmitResultRequest& request = result->request;
  auto reject = [&](v1::RejectReason reason, std::string message) {
    v1::SubmitResultResponse response;
    response.set_task_id(request.task_id());
    response.set_fencing_token(request.fencing_token());
    response.set_reject_reason(reason);
    response.set_message(std::move(message));
    Respond(std::move(response));
  };
  auto invalid = [&](std::string message) {
    reject(v1::REJECT_REASON_INVALID, std::move(message));
  };
  if (absl::StatusOr<int64_t> id = TaskIdArgument(request.task_id()); !id.ok()) {
    invalid(absl::StrCat(id.status().message(), "; send the id from the claimed task"));
  } else if (request.worker_id().empty()) {
    // Without it the lease's owner cannot be checked (task_writer.cc).
    invalid("worker_id is empty; send the id of the worker that claimed the task");
  } else if (absl::Status allowed = grant_.CheckWorkerId(request.worker_id()); !allowed.ok()) {
    // Once per stream in the log: a client that keeps sending them would
    // otherwise write a line per result.
    if (!refusal_logged_) {
      refusal_logged_ = true;
      spdlog::warn("SubmitResult refused for token '{}': {}", grant_.label,
                   std::string(allowed.message()));
    }
    reject(v1::REJECT_REASON_WRONG_WORKER, std::string(allowed.message()));
  } else if (result->nested_too_deep) {
    invalid("more_results inside more_results; put every result at the top level");
  } else if (const v1::ResultMetrics& m = request.metrics();
             !(std::isfinite(m.duration_seconds()) && m.duration_seconds() >= 0) ||
             m.bytes_in() < 0 || m.bytes_out() < 0) {
    // They feed the duration histograms and GetResult: a negative time or
    // size there would be a worker's bug passed on as a fact.
    invalid(absl::StrCat("metrics out of range (duration_seconds ", m.duration_seconds(),
                         ", bytes_in ", m.bytes_in(), ", bytes_out ", m.bytes_out(),
                         "); send finite durations and byte counts of 0 or more"));
  } else if (request.success() && request.result_json().empty()) {
    invalid("result_json is empty; a success carries its result as one UTF-8 JSON value");
  } else if (absl::Status json = request.result_json().empty()
                                     ? absl::OkStatus()
                                     : CheckJsonText(request.result_json());
             !json.ok()) {
    // Stored as sent and handed to every reader of GetResult: checked here,
    // once, off the write loop. result_json is `bytes` on the wire (protobuf
    // would check a `string`'s UTF-8 on both sides of every result), so the
    // check covers its UTF-8 too.
    invalid(absl::StrCat("result_json is not JSON text: ", json.message(),
                         "; send the result as one UTF-8 JSON value"));
  } else {
    CutLongError(result->request.mutable_error());
    // The write loop calls `done` exactly once, after `apply` (however many
    // times that ran), so `done` owns the result from here on. Capturing a
    // plain pointer keeps both closures small enough for std::function to
    // hold without an allocation of its own.
    PendingResult* pending = result.release();
    write_loop_.Run(
        [pending](TaskWriter& writer, int64_t now_ms, TxnEffects& effects) {
          absl::StatusOr<v1::SubmitResultResponse> response =
              writer.Submit(pending->request, now_ms, effects);
          if (!response.ok()) return response.status();
          pending->response = *std::move(response);
          return absl::OkStatus();
        },
        [this, pending](const absl::Status& status) {
          std::unique_ptr<PendingResult> owned(pending);
          if (!status.ok()) {
            // Not durable: tell the worker, which may send it again.
            owned->response.Clear();
            owned->response.set_task_id(owned->request.task_id());
            owned->response.set_fencing_token(owned->request.fencing_token());
            owned->response.set_accepted(false);
            owned->response.set_message("not stored: " + status.ToString());
          }
          Respond(std::move(owned->response));
        });
  }
}

void SubmitStream::Respond(v1::SubmitResultResponse response) {
  grpc::WriteOptions options;
  bool write = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken_) {
      --in_flight_;
      results_in_flight_.End();
    } else {
      pending_.push_back(std::move(response));
      if (!writing_) write = writing_ = TakeNextWriteLocked(&options);
    }
  }
  if (write) {
    StartWriteOfMessage(options);
  } else {
    Advance();
  }
}

bool SubmitStream::TakeNextWriteLocked(grpc::WriteOptions* options) {
  if (pending_.empty()) return false;
  writing_message_ = std::move(pending_.front());
  pending_.pop_front();
  acks_in_writing_ = 1;
  if (batch_acks_) {
    // At most kMaxInFlight acknowledgements are ever queued, so the message
    // stays small (each is an id, a token, a status and a short message).
    for (; !pending_.empty(); pending_.pop_front(), ++acks_in_writing_) {
      *writing_message_.add_more_acks() = std::move(pending_.front());
    }
  } else if (!pending_.empty()) {
    // More acknowledgements are queued behind this one: let gRPC coalesce
    // them; the last one of the run goes out without the hint and flushes.
    options->set_buffer_hint();
  }
  return true;
}

void SubmitStream::OnWriteDone(bool ok) {
  grpc::WriteOptions options;
  int ended = 0;
  bool write = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended = acks_in_writing_;
    in_flight_ -= acks_in_writing_;
    acks_in_writing_ = 0;
    if (!ok) {
      broken_ = true;
      ended += static_cast<int>(pending_.size());
      in_flight_ -= static_cast<int>(pending_.size());
      pending_.clear();
    }
    write = writing_ = TakeNextWriteLocked(&options);
  }
  for (int i = 0; i < ended; ++i) results_in_flight_.End();
  if (write) StartWriteOfMessage(options);
  Advance();
}

void SubmitStream::StartWriteOfMessage(grpc::WriteOptions options) {
  // Into a fresh buffer: gRPC's writer refuses to serialize into one that
  // holds bytes (the previous write's). Serializing fails only for a message
  // over 2 GiB; at most kMaxInFlight acknowledgements of a few hundred bytes
  // each share one.
  grpc::ByteBuffer bytes;
  bool own_buffer = false;
  grpc::SerializationTraits<v1::SubmitResultResponse>::Serialize(writing_message_, &bytes,
                                                                 &own_buffer)
      .IgnoreError();
  writing_bytes_.Swap(&bytes);
  StartWrite(&writing_bytes_, options);
}

void SubmitStream::Advance() {
  bool read = false;
  bool finish = false;
  grpc::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    if (reads_done_ || broken_) {
      // broken_: the client is gone; finish once nothing is outstanding.
      if (in_flight_ == 0 && !writing_ && !reading_) {
        finish = finished_ = true;
        status = final_status_;
      }
    } else if (!reading_ && in_flight_ < kMaxInFlight && !broken_) {
      read = reading_ = true;
    }
  }
  if (read) StartRead(&read_bytes_);
  // Last use of `this`: OnDone may delete the reactor once Finish is called.
  if (finish) Finish(status);
}

}  // namespace skillstore::server
