// Helpers shared by the engine tests: fixture paths and file reading.
#ifndef SKILLSTORE_TESTS_COMMON_TEST_UTIL_H_
#define SKILLSTORE_TESTS_COMMON_TEST_UTIL_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace skillstore::testing {

inline std::filesystem::path SourceDir() { return SKILLSTORE_SOURCE_DIR; }
inline std::filesystem::path DataDir() { return SourceDir() / "tests/common/data"; }
// ../shared next to the project (may be absent on a fresh clone).
inline std::filesystem::path SharedDir() { return SourceDir().parent_path() / "shared"; }

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Lines [first, last] (1-based) of `content`, joined with their line breaks.
inline std::string Lines(const std::string& content, int first, int last) {
  std::string out;
  int line = 1;
  size_t pos = 0;
  while (pos <= content.size() && line <= last) {
    size_t eol = content.find('\n', pos);
    if (eol == std::string::npos) eol = content.size();
    if (line >= first) out.append(content, pos, eol - pos + 1);  // append clamps at the end
    if (eol == content.size()) break;
    pos = eol + 1;
    ++line;
  }
  return out;
}

}  // namespace skillstore::testing

#endif  // SKILLSTORE_TESTS_COMMON_TEST_UTIL_H_
