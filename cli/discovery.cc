#include "cli/discovery.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/engine_limits.h"
#include "common/read_file.h"

namespace skillstore::cli {
namespace fs = std::filesystem;
namespace {

bool Wanted(const fs::path& file, v1::TaskType type) {
  const std::string name = file.filename().string();
  if (type == v1::TASK_TYPE_VALIDATE) {
    return absl::EndsWithIgnoreCase(name, ".json");
  }
  return absl::EqualsIgnoreCase(name, "SKILL.md");
}

bool Hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.size() > 1 && name[0] == '.' && name != "..";
}

}  // namespace

absl::StatusOr<std::vector<std::string>> DiscoverInputs(
    const std::vector<std::string>& paths, v1::TaskType type) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& arg : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(arg, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) {
      // A symlink loop, a folder that may not be searched, ...
      return absl::NotFoundError(absl::StrCat("cannot open ", arg, ": ", ec.message()));
    }
    if (ec || !fs::exists(st)) {
      return absl::NotFoundError(absl::StrCat("no such file or folder: ", arg));
    }
    std::vector<std::string> found;
    if (fs::is_directory(st)) {
      fs::recursive_directory_iterator it(
          arg, fs::directory_options::skip_permission_denied, ec);
      if (ec) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot read folder ", arg, ": ", ec.message()));
      }
      for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const fs::directory_entry& entry = *it;
        if (entry.is_directory(ec)) {
          if (Hidden(entry.path())) it.disable_recursion_pending();
          continue;
        }
        if (entry.is_regular_file(ec) && Wanted(entry.path(), type)) {
          found.push_back(entry.path().string());
        }
      }
      std::sort(found.begin(), found.end());
    } else {
      found.push_back(arg);
    }
    for (std::string& f : found) {
      if (seen.insert(f).second) out.push_back(std::move(f));
    }
  }
  return out;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  // No skill the engine would take is larger (a worker refuses it too).
  absl::StatusOr<std::string> content =
      ReadWholeFile(path, "", DefaultEngineLimits().max_input_bytes);
  // A skill named on the command line that cannot be read is "not found"
  // to scripts (exit code 4), whatever the system's reason.
  if (absl::IsInvalidArgument(content.status())) {
    return absl::NotFoundError(content.status().message());
  }
  return content;
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view content) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot write ", tmp, ": ", strerror(errno)));
    }
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      return absl::InternalError(absl::StrCat("write to ", tmp, " failed: ", strerror(errno)));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

std::string OutputBaseName(std::string_view skill_path) {
  fs::path p{std::string(skill_path)};
  std::string base;
  if (absl::EqualsIgnoreCase(p.filename().string(), "SKILL.md")) {
    base = p.parent_path().filename().string();
  } else {
    base = p.stem().string();
    for (const char* suffix : {"-skill", "_skill"}) {
      if (base.size() > strlen(suffix) && absl::EndsWithIgnoreCase(base, suffix)) {
        base.resize(base.size() - strlen(suffix));
        break;
      }
    }
  }
  for (char& c : base) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-') {
      c = '_';
    }
  }
  // A name of only dots would be "." or ".." or a hidden file.
  if (base.find_first_not_of('.') == std::string::npos) return std::string();
  return base;
}

std::string OutputSuffix(v1::TaskType type) {
  switch (type) {
    case v1::TASK_TYPE_VALIDATE: return "-validation.json";
    case v1::TASK_TYPE_ANALYZE: return "-security.json";
    default: return "-skill.json";
  }
}

std::string UniqueNamer::Claim(const std::string& base, const std::string& suffix) {
  std::string name = absl::StrCat(base, suffix);
  int& count = used_[name];
  ++count;
  if (count == 1) return name;
  // Try base-N until a name nobody has taken (a skill may really be called "a-2").
  for (int n = count;; ++n) {
    std::string candidate = absl::StrCat(base, "-", n, suffix);
    if (used_.emplace(candidate, 1).second) return candidate;
  }
}

}  // namespace skillstore::cli
