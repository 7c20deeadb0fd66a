#include "exposition_parser.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace skillstore::metrics::testing {
namespace {

bool IsNameChar(char c, bool first, bool allow_colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (allow_colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

// Reads a name at `pos`; empty when there is none.
std::string ReadName(std::string_view line, size_t* pos, bool allow_colon) {
  size_t start = *pos;
  while (*pos < line.size() && IsNameChar(line[*pos], *pos == start, allow_colon)) ++*pos;
  return std::string(line.substr(start, *pos - start));
}

absl::StatusOr<double> ParseValue(std::string_view text) {
  if (text == "+Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return std::nan("");
  std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size()) {
    return absl::InvalidArgumentError("bad value '" + std::string(text) + "'");
  }
  return value;
}

// The family a sample belongs to (strips histogram/summary suffixes when
// that family is declared).
std::string FamilyOf(const std::string& name, const std::map<std::string, ParsedFamily>& families) {
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string base = name.substr(0, name.size() - suffix.size());
      auto it = families.find(base);
      if (it != families.end() && it->second.type == "histogram") return base;
    }
  }
  return name;
}

absl::Status CheckHistograms(const Exposition& exposition) {
  // family -> labels without le -> (le -> cumulative count)
  std::map<std::string, std::map<Labels, std::map<double, double>>> buckets;
  std::map<std::string, std::map<Labels, double>> counts;
  for (const Sample& sample : exposition.samples) {
    const std::string family = FamilyOf(sample.name, exposition.families);
    if (family == sample.name) continue;
    Labels labels = sample.labels;
    if (sample.name == family + "_bucket") {
      auto le = labels.find("le");
      if (le == labels.end()) return absl::InvalidArgumentError(sample.name + " without le");
      absl::StatusOr<double> bound = ParseValue(le->second);
      if (!bound.ok()) return bound.status();
      labels.erase(le);
      buckets[family][labels][*bound] = sample.value;
    } else if (sample.name == family + "_count") {
      counts[family][labels] = sample.value;
    }
  }
  for (const auto& [family, series] : buckets) {
    for (const auto& [labels, by_bound] : series) {
      double previous = 0;
      for (const auto& [bound, value] : by_bound) {
        if (value < previous) {
          return absl::InvalidArgumentError(family + ": buckets are not cumulative");
        }
        previous = value;
      }
      if (by_bound.empty() || !std::isinf(by_bound.rbegin()->first)) {
        return absl::InvalidArgumentError(family + ": no +Inf bucket");
      }
      auto count = counts[family].find(labels);
      if (count == counts[family].end() || count->second != by_bound.rbegin()->second) {
        return absl::InvalidArgumentError(family + ": _count differs from the +Inf bucket");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<double> Exposition::Value(std::string_view name, const Labels& labels) const {
  for (const Sample& sample : samples) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  return absl::NotFoundError("no sample " + std::string(name));
}

double Exposition::Sum(std::string_view name, const Labels& match) const {
  double sum = 0;
  for (const Sample& sample : samples) {
    if (sample.name != name) continue;
    bool ok = true;
    for (const auto& [key, value] : match) {
      auto it = sample.labels.find(key);
      if (it == sample.labels.end() || it->second != value) ok = false;
    }
    if (ok) sum += sample.value;
  }
  return sum;
}

bool Exposition::Has(std::string_view name) const {
  for (const Sample& sample : samples) {
    if (sample.name == name) return true;
  }
  return false;
}

absl::StatusOr<Exposition> ParseExposition(std::string_view text) {
  Exposition out;
  std::set<std::pair<std::string, Labels>> seen;
  std::set<std::string> finished_families;  // a family's lines must be contiguous
  std::string current_family;
  if (!text.empty() && text.back() != '\n') {
    return absl::InvalidArgumentError("the exposition must end with a line feed");
  }
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    ++line_number;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", what, ": '",
                                                     std::string(line), "'"));
    };
    if (line.empty()) continue;
    if (line[0] == '#') {
      const bool help = line.substr(0, 7) == "# HELP ";
      const bool type = line.substr(0, 7) == "# TYPE ";
      if (!help && !type) continue;  // a comment
      size_t pos = 7;
      const std::string name = ReadName(line, &pos, true);
      if (name.empty() || pos >= line.size() || line[pos] != ' ') return error("bad HELP/TYPE");
      std::string_view rest = line.substr(pos + 1);
      if (name != current_family) {
        if (finished_families.count(name)) return error("family split in two");
        if (!current_family.empty()) finished_families.insert(current_family);
        current_family = name;
      }
      ParsedFamily& family = out.families[name];
      if (help) {
        std::string unescaped;
        for (size_t i = 0; i < rest.size(); ++i) {
          if (rest[i] == '\\' && i + 1 < rest.size()) {
            ++i;
            if (rest[i] == 'n') unescaped += '\n';
            else if (rest[i] == '\\') unescaped += '\\';
            else return error("bad escape in HELP");
          } else {
            unescaped += rest[i];
          }
        }
        family.help = unescaped;
      } else {
        if (!family.type.empty()) return error("second TYPE");
        if (rest != "counter" && rest != "gauge" && rest != "histogram" && rest != "summary" &&
            rest != "untyped") {
          return error("unknown type");
        }
        family.type = std::string(rest);
      }
      continue;
    }
    Sample sample;
    size_t pos = 0;
    sample.name = ReadName(line, &pos, true);
    if (sample.name.empty()) return error("no metric name");
    if (pos < line.size() && line[pos] == '{') {
      ++pos;
      while (true) {
        if (pos < line.size() && line[pos] == '}') {
          ++pos;
          break;
        }
        const std::string label = ReadName(line, &pos, false);
        if (label.empty() || pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"') {
          return error("bad label");
        }
        pos += 2;
        std::string value;
        while (true) {
          if (pos >= line.size()) return error("unterminated label value");
          const char c = line[pos++];
          if (c == '"') break;
          if (c == '\\') {
            if (pos >= line.size()) return error("bad escape");
            const char e = line[pos++];
            if (e == 'n') value += '\n';
            else if (e == '\\') value += '\\';
            else if (e == '"') value += '"';
            else return error("bad escape");
          } else {
            value += c;
          }
        }
        if (!sample.labels.emplace(label, value).second) return error("label given twice");
        if (pos < line.size() && line[pos] == ',') ++pos;
      }
    }
    if (pos >= line.size() || line[pos] != ' ') return error("no value");
    std::string_view value = line.substr(pos + 1);
    if (const size_t space = value.find(' '); space != std::string_view::npos) {
      value = value.substr(0, space);  // an optional timestamp follows
    }
    absl::StatusOr<double> parsed = ParseValue(value);
    if (!parsed.ok()) return error(parsed.status().message());
    sample.value = *parsed;
    const std::string family = FamilyOf(sample.name, out.families);
    auto declared = out.families.find(family);
    if (declared == out.families.end() || declared->second.type.empty()) {
      return error("sample without a TYPE line");
    }
    if (family != current_family) return error("sample outside its family's block");
    if (!seen.emplace(sample.name, sample.labels).second) return error("duplicate series");
    out.samples.push_back(std::move(sample));
  }
  if (absl::Status status = CheckHistograms(out); !status.ok()) return status;
  return out;
}

}  // namespace skillstore::metrics::testing
