// Development tool: runs one engine task over a file and prints the result.
//   skillstore-run-task parse|validate|analyze FILE
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "common/task_executor.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " parse|validate|analyze FILE\n";
    return 2;
  }
  const std::string kind_name = argv[1];
  skillstore::TaskKind kind;
  if (kind_name == "parse") {
    kind = skillstore::TaskKind::kParse;
  } else if (kind_name == "validate") {
    kind = skillstore::TaskKind::kValidate;
  } else if (kind_name == "analyze") {
    kind = skillstore::TaskKind::kAnalyze;
  } else {
    std::cerr << "unknown task kind: " << kind_name << "\n";
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << argv[2] << "\n";
    return 2;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto result = skillstore::RunTask(kind, buffer.str(), argv[2]);
  if (!result.ok()) {
    std::cerr << result.status() << "\n";
    return 1;
  }
  std::cout << *result;
  return 0;
}
