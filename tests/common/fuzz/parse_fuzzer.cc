// libFuzzer target for the parse executor: any bytes must give a result or a
// clean InvalidArgument / ResourceExhausted, never a crash, hang, leak or
// undefined behaviour, and never Internal (an engine bug).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/task_executor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> out =
      skillstore::RunTask(skillstore::TaskKind::kParse, input, "fuzz/SKILL.md");
  if (!out.ok() && out.status().code() == absl::StatusCode::kInternal) std::abort();
  return 0;
}
