#include "authorizer.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/read_file.h"
#include "spdlog/spdlog.h"

namespace skillstore::server {
namespace {

bool IsLowerHex64(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string Peer(const grpc::ServerContextBase& context) {
  // peer() is not const in gRPC's API although it only reads.
  return const_cast<grpc::ServerContextBase&>(context).peer();
}

}  // namespace

absl::StatusOr<std::vector<TokenEntry>> ParseTokenFile(absl::string_view text,
                                                       absl::string_view source) {
  std::vector<TokenEntry> entries;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    auto where = [&] { return absl::StrCat(source, ":", line_number, ": "); };
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(),
                       "expected '<role> <sha256-hex of the token> [label]' (skillctl token new "
                       "prints such a line)"));
    }
    // `worker:<pattern>` binds a worker token to the worker ids it may name.
    absl::string_view role_field = fields[0];
    std::string worker_ids;
    if (const size_t colon = role_field.find(':'); colon != absl::string_view::npos) {
      worker_ids = std::string(role_field.substr(colon + 1));
      role_field = role_field.substr(0, colon);
      if (role_field != "worker") {
        return absl::InvalidArgumentError(absl::StrCat(
            where(), "only a worker token can be bound to worker ids ('worker:", worker_ids,
            "'); '", role_field, "' tokens take no ':'"));
      }
      if (worker_ids.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where(),
            "'worker:' needs a pattern of worker ids after the colon, e.g. 'worker:", "build-*'"));
      }
    }
    absl::StatusOr<auth::Role> role = auth::ParseRole(role_field);
    if (!role.ok())
      return absl::InvalidArgumentError(absl::StrCat(where(), role.status().message()));
    const std::string hash = absl::AsciiStrToLower(fields[1]);
    if (!IsLowerHex64(hash)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(),
                       "the second field must be the 64-hex-digit SHA-256 of the token, not the "
                       "token itself (skillctl token new prints the line to add)"));
    }
    for (const TokenEntry& seen : entries) {
      if (seen.sha256_hex == hash) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(), "the same token hash is on line ", seen.line, " already"));
      }
    }
    TokenEntry entry;
    entry.role = *role;
    entry.sha256_hex = hash;
    entry.worker_ids = std::move(worker_ids);
    entry.line = line_number;
    if (fields.size() > 2) {
      // The label is the rest of the line, spaces included.
      absl::string_view rest = line;
      rest.remove_prefix(fields[1].data() + fields[1].size() - line.data());
      entry.label = std::string(absl::StripAsciiWhitespace(rest));
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::FromFile(std::string path) {
  auto authorizer = std::unique_ptr<Authorizer>(new Authorizer(std::move(path)));
  if (absl::Status status = authorizer->Reload(); !status.ok()) return status;
  return authorizer;
}

absl::Status Authorizer::Reload() {
  absl::StatusOr<std::string> text = ReadWholeFile(path_, "auth token file");
  if (!text.ok()) return text.status();
  absl::StatusOr<std::vector<TokenEntry>> entries = ParseTokenFile(*text, path_);
  if (!entries.ok()) return entries.status();
  if (entries->empty()) {
    // Almost certainly a mistake (a truncated file); refusing keeps the
    // server usable instead of locking every client out.
    return absl::InvalidArgumentError(
        absl::StrCat("auth token file ", path_, " has no tokens; add at least one line"));
  }
  // The file holds no secret, but whoever can write it can grant themselves
  // admin: worth a warning (not a refusal: containers often run with loose modes).
  struct stat info;
  if (stat(path_.c_str(), &info) == 0 && (info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    spdlog::warn(
        "auth token file {} is writable by group or others (mode {:o}): anyone who can write it "
        "can add an admin token; chmod go-w it",
        path_, info.st_mode & 0777);
  }
  auto fresh = std::make_shared<const std::vector<TokenEntry>>(*std::move(entries));
  std::unique_lock<std::shared_mutex> lock(mu_);
  tokens_ = std::move(fresh);
  return absl::OkStatus();
}

size_t Authorizer::size() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return tokens_ == nullptr ? 0 : tokens_->size();
}

absl::StatusOr<Grant> Authorizer::Check(const grpc::ServerContextBase& context, auth::Role needed,
                                        absl::string_view method) const {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find("authorization");
  if (found == metadata.end()) {
    spdlog::debug("{} from {}: no authorization metadata", std::string(method), Peer(context));
    return absl::UnauthenticatedError(
        absl::StrCat(method,
                     " needs a token: send the metadata 'authorization: Bearer <token>' "
                     "(skill-worker / skillctl --token-file)"));
  }
  const std::optional<absl::string_view> token =
      auth::BearerCredential(absl::string_view(found->second.data(), found->second.size()));
  if (!token.has_value()) {
    spdlog::debug("{} from {}: authorization metadata is not a bearer token", std::string(method),
                  Peer(context));
    return absl::UnauthenticatedError(
        "malformed authorization metadata: expected 'Bearer <token>'");
  }
  const std::string hash = auth::Sha256Hex(*token);

  std::shared_ptr<const std::vector<TokenEntry>> tokens;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    tokens = tokens_;
  }
  // Every entry is compared, match or not, so timing does not tell which
  // entry (or how much of a hash) matched.
  const TokenEntry* match = nullptr;
  for (const TokenEntry& entry : *tokens) {
    if (auth::ConstantTimeEquals(hash, entry.sha256_hex)) match = &entry;
  }
  if (match == nullptr) {
    spdlog::debug("{} from {}: unknown token", std::string(method), Peer(context));
    return absl::UnauthenticatedError(
        "unknown or revoked token: it is not in the server's --auth-token-file");
  }
  if (!auth::RoleAllows(match->role, needed)) {
    spdlog::warn("{} refused for token '{}' (role {}, line {}) from {}: needs role {}",
                 std::string(method), match->label, auth::RoleName(match->role), match->line,
                 Peer(context), auth::RoleName(needed));
    return absl::PermissionDeniedError(
        absl::StrCat(method, " needs a token with role ", auth::RoleName(needed),
                     needed == auth::Role::kAdmin ? "" : " (or admin)", "; this token has role ",
                     auth::RoleName(match->role)));
  }
  return Grant{match->worker_ids, match->label};
}

absl::Status Grant::CheckWorkerId(absl::string_view worker_id) const {
  if (worker_ids.empty()) return absl::OkStatus();
  const std::string id(worker_id);
  // No FNM_PATHNAME / FNM_PERIOD: a worker id is a name, not a path, so `*`
  // matches every character.
  if (fnmatch(worker_ids.c_str(), id.c_str(), 0) == 0) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("this token may act only as worker ids matching '", worker_ids,
                   "' (its token-file line says worker:", worker_ids,
                   "); this call names worker id '", absl::CHexEscape(id), "'"));
}

absl::Status AuthorizeWorker(const Authorizer* authorizer, const grpc::ServerContextBase& context,
                             absl::string_view method, absl::string_view worker_id) {
  absl::StatusOr<Grant> grant = AuthorizeWorkerStream(authorizer, context, method);
  if (!grant.ok()) return grant.status();
  absl::Status allowed = grant->CheckWorkerId(worker_id);
  if (!allowed.ok()) {
    spdlog::warn("{} refused for token '{}' from {}: {}", std::string(method), grant->label,
                 Peer(context), std::string(allowed.message()));
  }
  return allowed;
}

absl::StatusOr<Grant> AuthorizeWorkerStream(const Authorizer* authorizer,
                                            const grpc::ServerContextBase& context,
                                            absl::string_view method) {
  if (authorizer == nullptr) return Grant{};
  return authorizer->Check(context, auth::Role::kWorker, method);
}

}  // namespace skillstore::server
