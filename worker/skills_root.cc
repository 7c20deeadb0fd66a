#include "skills_root.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace skillstore::worker {
namespace fs = std::filesystem;

absl::StatusOr<SkillsRoot> SkillsRoot::Open(std::string_view dir) {
  std::error_code ec;
  fs::path canonical = fs::canonical(fs::path(std::string(dir)), ec);
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("--skills-root ", std::string(dir), ": ", ec.message()));
  }
  if (!fs::is_directory(canonical, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--skills-root ", std::string(dir), " is not a directory"));
  }
  return SkillsRoot(canonical.string());
}

absl::StatusOr<std::string> SkillsRoot::Read(std::string_view skill_path,
                                             size_t max_bytes) const {
  const std::string label(skill_path);
  if (skill_path.empty()) {
    return absl::InvalidArgumentError("task has neither content nor skill_path");
  }
  if (skill_path.find('\0') != std::string_view::npos) {
    return absl::PermissionDeniedError("skill_path contains a NUL byte");
  }
  const fs::path relative(label);
  if (relative.is_absolute()) {
    return absl::PermissionDeniedError(
        absl::StrCat("skill_path ", label, " is absolute; only paths inside --skills-root are read"));
  }
  for (const fs::path& part : relative) {
    if (part == "..") {
      return absl::PermissionDeniedError(
          absl::StrCat("skill_path ", label, " contains '..'; only paths inside --skills-root are read"));
    }
  }
  // Resolve every symlink, then check containment on the resolved path: the
  // lexical checks above are not enough once links are involved.
  std::error_code ec;
  const fs::path resolved = fs::canonical(fs::path(root_) / relative, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat("skill_path ", label, " under ", root_, ": ",
                                            ec.message()));
  }
  const std::string resolved_str = resolved.string();
  const std::string prefix = root_ == "/" ? root_ : root_ + "/";
  if (resolved_str.compare(0, prefix.size(), prefix) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "skill_path ", label, " resolves to ", resolved_str, ", outside --skills-root ", root_));
  }
  // O_NOFOLLOW: if the last component was swapped for a link since canonical(),
  // refuse rather than follow it. O_NONBLOCK: opening a FIFO would otherwise
  // wait for a writer, holding the engine thread until the task times out;
  // it changes nothing for the regular files that pass the check below.
  const UniqueFd fd(open(resolved_str.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    return absl::NotFoundError(absl::StrCat("open ", resolved_str, ": ", strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(resolved_str, " is not a regular file"));
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(resolved_str, " is ", st.st_size,
                                                     " bytes, over the limit of ", max_bytes));
  }
  std::string content;
  content.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = read(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::InternalError(absl::StrCat("read ", resolved_str, ": ", strerror(errno)));
    }
    if (n == 0) break;  // the file shrank meanwhile
    done += static_cast<size_t>(n);
  }
  content.resize(done);
  return content;
}

}  // namespace skillstore::worker
