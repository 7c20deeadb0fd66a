// Aligned text tables for human output:
//
//   ID  TYPE   STATUS     PATH
//   1   parse  completed  examples/skills/code-review/SKILL.md
//
// Columns are as wide as their widest cell; numeric columns are right-aligned
// when declared so. The last column is never padded, so lines stay short.
#ifndef SKILLSTORE_CLI_TABLE_H_
#define SKILLSTORE_CLI_TABLE_H_

#include <ostream>
#include <string>
#include <vector>

namespace skillstore::cli {

class Table {
 public:
  // Header names, upper-case by convention.
  explicit Table(std::vector<std::string> headers);

  // Right-aligns column `index` (counts, durations).
  Table& AlignRight(size_t index);

  // A row with as many cells as there are headers (missing cells are blank).
  void AddRow(std::vector<std::string> cells);

  size_t rows() const { return rows_.size(); }

  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_TABLE_H_
