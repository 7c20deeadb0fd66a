// Conversions between the API's enums and the text stored in the database,
// metadata maps and their JSON column, and clock helpers. The database keeps
// the text spellings of the original design ('parse', 'in_progress', ...).
#ifndef SKILLSTORE_SERVER_CODEC_H_
#define SKILLSTORE_SERVER_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "google/protobuf/map.h"
#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::server {

namespace v1 = ::skillstore::v1;

// "" for TASK_TYPE_UNSPECIFIED or unknown values.
std::string TaskTypeText(v1::TaskType type);
v1::TaskType TaskTypeFromText(std::string_view text);

std::string TaskStatusText(v1::TaskStatus status);
v1::TaskStatus TaskStatusFromText(std::string_view text);

std::string AttemptOutcomeText(v1::AttemptOutcome outcome);
v1::AttemptOutcome AttemptOutcomeFromText(std::string_view text);

std::string WorkerStatusText(v1::WorkerStatus status);
v1::WorkerStatus WorkerStatusFromText(std::string_view text);

// Metadata as a JSON object of strings, and back (bad JSON gives an empty map).
std::string MetadataToJson(const google::protobuf::Map<std::string, std::string>& metadata);
void MetadataFromJson(std::string_view json, google::protobuf::Map<std::string, std::string>* out);

// Task ids are decimal row ids written as this server writes them (no sign,
// no leading zero); nullopt for anything else, "0007" included, so that each
// task has one id.
std::optional<int64_t> ParseTaskId(std::string_view text);

// The task a request names in its task_id field. INVALID_ARGUMENT when the
// text is empty or can never be a task id, so that NOT_FOUND, which the
// callers give for an id without a row, always means a well-formed id of a
// task that does not exist.
absl::StatusOr<int64_t> TaskIdArgument(std::string_view text);

// Text a client sent, shown to a person. Both forms escape control bytes
// and DEL as \xNN, so the text can neither break a line nor reach a
// terminal, and cut it short with the full length noted, so a megabyte sent
// as an id comes back as a readable line.
//
// For a status message about a request: in single quotes, every byte other
// than printable ASCII escaped (and `\`, so the quoting is unambiguous), at
// most 64 bytes shown; a gRPC status header must stay small.
std::string QuotedForMessage(std::string_view text);
// For a log line (worker ids, error texts): as skillctl shows text
// (WithControlsEscaped, common/utf8.h: UTF-8 kept, controls and bidi
// overrides escaped), at most 512 bytes shown, cut at a character boundary
// (the database keeps the text whole).
std::string ForLog(std::string_view text);

// Wall clock in milliseconds since the Unix epoch.
int64_t NowUnixMs();
// The REAL seconds stored in the seed time columns.
inline double MsToSeconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }
int64_t SecondsToMs(double seconds);

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_CODEC_H_
