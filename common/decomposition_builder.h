// Collects classified statements and turns them into the decomposition JSON:
// merges duplicates, numbers ids in document order, builds names, provenance
// and the meta block.
#ifndef SKILLSTORE_COMMON_DECOMPOSITION_BUILDER_H_
#define SKILLSTORE_COMMON_DECOMPOSITION_BUILDER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/json_layout.h"
#include "common/statement_classifier.h"
#include "nlohmann/json.hpp"

namespace skillstore {

struct Statement {
  Classification classification;
  // Verbatim bytes of the file, and the section title: views into the
  // content and the parsed document, which outlive the builder.
  std::string_view original_text;
  std::string description;    // the whole statement, white space collapsed
  int line_start = 0;
  int line_end = 0;
  std::string_view section;
  bool shell_command = false;
  std::string program;  // shell commands: the program name
};

struct SkillMeta {
  std::string name;
  std::string description;  // may be empty
  // Views of the task's label and of the parser's own constants, which
  // outlive Build: copying them cost an allocation each per task.
  std::string_view source_label;
  std::string_view parser_name;
  std::string_view parser_version;
  // Null when the front matter has no other fields (written as {}): an
  // empty object would be an allocation, and its dump three more, per task.
  nlohmann::ordered_json original_definition;
  // The front matter parsed only after quoting values (front_matter.h).
  bool front_matter_repaired = false;
  bool front_matter_fence_not_on_first_line = false;  // FrontMatter::fence_not_on_first_line
  std::vector<std::string> front_matter_repeated_keys;  // FrontMatter::repeated_keys
};

class JsonWriter;

class DecompositionBuilder {
 public:
  explicit DecompositionBuilder(std::string locator_file)
      : locator_file_(std::move(locator_file)) {}

  // Adds a statement; an identical statement of the same category seen
  // before is merged into the first (its location is kept as evidence).
  void Add(Statement s);
  size_t size() const { return statements_.size(); }
  // Room for about `n` statements (a hint: growing the vector moves every
  // statement built so far).
  void Reserve(size_t n) { statements_.reserve(n); }

  // The decomposition as JSON text in `layout` (indented: newline at the
  // end). `timestamp` is RFC 3339 UTC; it is the only field that changes
  // between runs over the same input.
  std::string Build(const SkillMeta& meta, const std::string& timestamp,
                    JsonLayout layout) const;

 private:
  struct Entry {
    Statement statement;
    std::vector<std::string> duplicate_locators;
  };
  std::string Locator(int line) const;
  // Locator(line) written over *out (scratch whose capacity is reused).
  void LocatorInto(int line, std::string* out) const;
  // Per Build: the provenance fields every element shares, as recorded
  // writes (JsonWriter::Recording), and the locator's buffer.
  struct ProvenanceScratch;
  void WriteProvenance(const Entry& e, const SkillMeta& meta, ProvenanceScratch* scratch,
                       JsonWriter* w) const;
  // From the "provenance" key to the "original_text" key, and from the end
  // of "location" to the "confidence" key.
  void WriteProvenanceHead(const SkillMeta& meta, JsonWriter* w) const;
  void WriteProvenanceTail(const SkillMeta& meta, JsonWriter* w) const;

  // Up to this many statements, duplicates are found by comparing with
  // each one (small skills: no keys to build and hash, no table to
  // allocate); past it, through index_.
  static constexpr size_t kLinearDedupLimit = 16;
  // The key a statement is merged by: its category name, "\n" and its
  // description in ASCII lower case.
  static std::string IndexKey(const Statement& s);

  std::string locator_file_;
  std::vector<Entry> statements_;
  // Empty until there are kLinearDedupLimit statements.
  absl::flat_hash_map<std::string, size_t> index_;
};

// Current time as "YYYY-MM-DDTHH:MM:SSZ": the calling thread's cached text,
// valid until its next call (no copy per task).
const std::string& NowTimestamp();

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_DECOMPOSITION_BUILDER_H_
