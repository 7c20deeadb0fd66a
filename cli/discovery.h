// Finding the inputs of `enqueue` and `parse`, and naming their outputs.
//
// Folders are searched recursively: for SKILL.md files when the task type is
// parse or analyze, for *.json files when it is validate. Hidden folders
// (.git, .venv, ...) are skipped. Files named on the command line are taken
// as they are, whatever their name.
#ifndef SKILLSTORE_CLI_DISCOVERY_H_
#define SKILLSTORE_CLI_DISCOVERY_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::cli {

// Every input file under `paths`, in a stable order (each argument's files
// sorted by path; arguments in the order given; duplicates dropped).
// NotFound when an argument does not exist.
absl::StatusOr<std::vector<std::string>> DiscoverInputs(
    const std::vector<std::string>& paths, v1::TaskType type);

// Reads a whole skill file; NOT_FOUND "<path>: cannot read: <reason>" when it
// cannot, RESOURCE_EXHAUSTED when it is larger than the engine takes.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `content` to `path` via a temporary file and rename, so a reader
// never sees half a file.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content);

// The base name of a skill's outputs, from its path: the folder name for
// ".../<name>/SKILL.md", otherwise the file name without its extension and
// without a "-skill" suffix (so a validate of "pdf-skill.json" writes
// "pdf-validation.json"). Characters other than [A-Za-z0-9._-] become '_'.
// Empty when nothing usable is left.
std::string OutputBaseName(std::string_view skill_path);

// "-skill.json" (parse), "-validation.json" (validate), "-security.json"
// (analyze): the Skill-0 tools' names for these files.
std::string OutputSuffix(v1::TaskType type);

// Hands out file names that are unique within one output folder:
// "a-skill.json", then "a-2-skill.json", "a-3-skill.json", ...
class UniqueNamer {
 public:
  std::string Claim(const std::string& base, const std::string& suffix);

 private:
  std::map<std::string, int> used_;  // full name -> times handed out
};

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_DISCOVERY_H_
