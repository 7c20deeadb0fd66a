// The JSON form of API messages for `-o json`.
//
// Unlike protobuf's canonical JSON mapping (int64 as strings, enum names like
// TASK_STATUS_COMPLETED) this is shaped for scripts and jq: numbers are
// numbers, enums are the short names people type ("completed", "parse"), and
// times are milliseconds since the epoch in *_unix_ms fields. Keys keep a
// fixed order so output diffs cleanly.
#ifndef SKILLSTORE_CLI_JSON_VIEW_H_
#define SKILLSTORE_CLI_JSON_VIEW_H_

#include <string>

#include <nlohmann/json.hpp>

#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::cli {

using Json = nlohmann::ordered_json;

Json ToJson(const v1::Progress& progress);
Json ToJson(const v1::TaskInfo& task);
Json ToJson(const v1::Attempt& attempt);
Json ToJson(const v1::WorkerInfo& worker);
Json ToJson(const v1::ResultMetrics& metrics);
// The result document is embedded as JSON when it parses, else as a string.
Json ToJson(const v1::GetResultResponse& result);

// Parses `text` as JSON; a string value holding `text` when it is not JSON.
Json EmbedJson(const std::string& text);

// Pretty output for `-o json` (two-space indent, trailing newline).
std::string Dump(const Json& json);

// A stored result document for people and files: workers send results
// compact (a third fewer bytes to move and store); this indents them like
// `skillctl parse` does, keys in their order, so the two can be diffed. Text
// that is not JSON comes back as it is, with a newline at the end.
std::string IndentedDocument(const std::string& text);

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_JSON_VIEW_H_
