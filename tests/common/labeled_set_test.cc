// Agreement of the statement classifier with the hand-labeled set in
// data/labeled_statements.tsv (labels follow docs/classification.md).
// Reports agreement per category and per subtype; fails below 90% overall
// category agreement.
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/classification_types.h"
#include "common/statement_classifier.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace skillstore {
namespace {

struct Labeled {
  int line = 0;
  std::string kind, section, category, type, text;
};

std::vector<Labeled> LoadLabeled() {
  std::vector<Labeled> out;
  std::istringstream in(testing::ReadFile(testing::DataDir() / "labeled_statements.tsv"));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    size_t pos = 0;
    for (int i = 0; i < 4; ++i) {
      size_t tab = line.find('\t', pos);
      if (tab == std::string::npos) break;
      cols.push_back(line.substr(pos, tab - pos));
      pos = tab + 1;
    }
    cols.push_back(line.substr(pos));
    if (cols.size() != 5) {
      ADD_FAILURE() << "labeled_statements.tsv:" << n << ": expected 5 columns";
      continue;
    }
    out.push_back({n, cols[0], cols[1], cols[2], cols[3], cols[4]});
  }
  return out;
}

std::string TypeName(const Classification& c) {
  switch (c.category) {
    case Category::kAction: return std::string(ActionTypeName(c.action_type));
    case Category::kRule: return std::string(ConditionTypeName(c.condition_type));
    case Category::kDirective: return std::string(DirectiveTypeName(c.directive_type));
  }
  return "";
}

TEST(LabeledSetTest, AgreementPerCategoryIsAtLeastNinetyPercentOverall) {
  const std::vector<Labeled> set = LoadLabeled();
  ASSERT_GE(set.size(), 200u);
  struct Tally {
    int total = 0, category_ok = 0, type_ok = 0;
  };
  std::map<std::string, Tally> by_category;
  Tally all;
  std::string misses;
  for (const Labeled& l : set) {
    const StatementKind kind = l.kind == "table"  ? StatementKind::kTableRow
                               : l.kind == "list" ? StatementKind::kListItem
                                                  : StatementKind::kSentence;
    const SectionBias bias = l.section == "-" ? SectionBias::kNone : SectionBiasFor(l.section);
    const Classification c = ClassifyStatement(l.text, bias, kind);
    const std::string category(CategoryName(c.category));
    const std::string type = TypeName(c);
    Tally& t = by_category[l.category];
    ++t.total;
    ++all.total;
    if (category == l.category) {
      ++t.category_ok;
      ++all.category_ok;
      if (type == l.type) {
        ++t.type_ok;
        ++all.type_ok;
      }
    }
    if (category != l.category || type != l.type) {
      misses += "  line " + std::to_string(l.line) + ": want " + l.category + "/" + l.type +
                ", got " + category + "/" + type + " [" + l.section + "] " + l.text + "\n";
    }
  }
  std::printf("labeled set: %d statements\n", all.total);
  for (const auto& [name, t] : by_category) {
    std::printf("  %-9s %3d statements  category %5.1f%%  category+type %5.1f%%\n", name.c_str(),
                t.total, 100.0 * t.category_ok / t.total, 100.0 * t.type_ok / t.total);
  }
  const double overall = 100.0 * all.category_ok / all.total;
  std::printf("  overall   %3d statements  category %5.1f%%  category+type %5.1f%%\n", all.total,
              overall, 100.0 * all.type_ok / all.total);
  std::printf("disagreements:\n%s", misses.c_str());
  EXPECT_GE(overall, 90.0);
}

}  // namespace
}  // namespace skillstore
