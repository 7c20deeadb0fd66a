// Reads a task's skill from the worker's local disk, confined to one folder.
//
// Content normally travels inline in the task. Only when a task arrives
// without content, and the worker was started with --skills-root DIR, is
// `skill_path` read from disk — and never from outside DIR: absolute paths
// and `..` components are refused outright, and the path is resolved
// (symlinks included) and must still lie inside the resolved DIR. A symlink
// inside DIR that points outside it is therefore refused too.
//
// Thread-safe (immutable after Open).
#ifndef SKILLSTORE_WORKER_SKILLS_ROOT_H_
#define SKILLSTORE_WORKER_SKILLS_ROOT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace skillstore::worker {

class SkillsRoot {
 public:
  // `dir` must exist and be a directory. NotFound / InvalidArgument otherwise.
  static absl::StatusOr<SkillsRoot> Open(std::string_view dir);

  // Reads `skill_path` (relative to the root). Errors:
  //   PermissionDenied - the path is absolute, has `..`, or resolves outside;
  //   NotFound         - no such file (another worker may have it);
  //   InvalidArgument  - not a regular file, or empty path;
  //   ResourceExhausted - larger than `max_bytes`.
  absl::StatusOr<std::string> Read(std::string_view skill_path, size_t max_bytes) const;

  // The canonical root directory.
  const std::string& path() const { return root_; }

 private:
  explicit SkillsRoot(std::string root) : root_(std::move(root)) {}
  std::string root_;  // canonical, no trailing slash (unless "/")
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_SKILLS_ROOT_H_
