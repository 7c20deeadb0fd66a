// Small file and text helpers for tests that hand files to the project's
// binaries and read their logs: reading a file whole, replacing one the way
// renewal tools do, counting a log line.
#ifndef SKILLSTORE_TESTS_TESTING_FILES_H_
#define SKILLSTORE_TESTS_TESTING_FILES_H_

#include <string>

#include "absl/status/status.h"

namespace skillstore::testing {

// The whole file; empty when it cannot be read.
std::string ReadFile(const std::string& path);

// Replaces `path` with `content` as renewal tools (certbot, cert-manager's
// volumes) do: a new file renamed over the old one, so a process reading it
// sees the old file or the new one, never half of either.
absl::Status InstallFile(const std::string& path, const std::string& content);

// How often `needle` occurs in `text` (overlaps included).
int CountOccurrences(const std::string& text, const std::string& needle);

}  // namespace skillstore::testing

#endif  // SKILLSTORE_TESTS_TESTING_FILES_H_
