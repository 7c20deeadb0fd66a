// libFuzzer target for the parse executor: any bytes must give a result or a
// clean InvalidArgument / ResourceExhausted, never a crash, hang, leak or
// undefined behaviour, and never Internal (an engine bug). A result must be
// JSON that the validate executor accepts: the one exception is by design
// (more than 999 elements of one kind are all kept; ids from _1000 on cannot
// match the schema's three-digit pattern, and parser_meta says so).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/task_executor.h"
#include "nlohmann/json.hpp"

namespace {

// True when every error is an id at index 999 or later of a list that long,
// and the output says it has more than 999 elements of a kind.
bool OnlyIdsPast999(const nlohmann::json& doc, const nlohmann::json& errors) {
  if (!doc["parser_meta"].value("inconsistency_detected", false)) return false;
  for (const nlohmann::json& e : errors) {
    const std::string path = e.value("path", "");
    bool ok = false;
    for (const char* kind : {"actions", "rules", "directives"}) {
      const std::string head = std::string("/decomposition/") + kind + "/";
      if (path.rfind(head, 0) != 0 || path.size() < head.size() + 6) continue;
      const std::string rest = path.substr(head.size());
      const size_t slash = rest.find('/');
      if (slash == std::string::npos || rest.substr(slash) != "/id") continue;
      const std::string index = rest.substr(0, slash);
      ok = index.find_first_not_of("0123456789") == std::string::npos && index.size() < 9 &&
           std::stoul(index) >= 999;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> out =
      skillstore::RunTask(skillstore::TaskKind::kParse, input, "fuzz/SKILL.md");
  if (!out.ok()) {
    if (out.status().code() == absl::StatusCode::kInternal) std::abort();
    return 0;
  }
  const nlohmann::json doc = nlohmann::json::parse(*out, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) std::abort();  // not JSON, or not UTF-8
  absl::StatusOr<std::string> verdict =
      skillstore::RunTask(skillstore::TaskKind::kValidate, *out, "fuzz/out.json");
  if (!verdict.ok()) std::abort();
  const nlohmann::json v = nlohmann::json::parse(*verdict);
  if (v["valid"] != true && !OnlyIdsPast999(doc, v["errors"])) std::abort();
  return 0;
}
