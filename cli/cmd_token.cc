// skillctl token new | hash: make bearer tokens for skillstore-server's
// --auth-token-file. Neither talks to a server.
//
// The server's token file holds `<role> <sha256-hex of the token> [label]`
// lines (role `worker:<pattern>` for a worker token bound to worker ids,
// --worker-ids), never the tokens: `token new` prints a fresh token (line 1, for the
// client) and its token-file line (line 2, for the server), so a script can
// split them with head/tail; the explanation goes to stderr. `token hash`
// makes the line for a token that already exists (read from stdin, so it
// never shows in `ps` or shell history).
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/json_view.h"
#include "common/auth/token.h"
#include "common/client_credentials.h"

namespace skillstore::cli {
namespace {

// --role, --worker-ids and --label of both commands.
struct TokenLineOptions {
  std::string role;
  std::string worker_ids;
  std::string label;
};

// One `<role>[:<worker ids>] <sha256-hex> [label]` line of the server's token file.
struct TokenLine {
  auth::Role role;
  std::string worker_ids;  // empty: any worker id
  std::string label;       // trimmed
  std::string sha256;
  std::string text;
};

// The label is free text on the token-file line; a line break would split the
// entry and end it early.
absl::Status CheckLabel(const std::string& label) {
  for (char c : label) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(
          "--label: no line breaks or control characters (it is the rest of one line in the "
          "token file)");
    }
  }
  return absl::OkStatus();
}

// Checks the options before any token is made or read.
absl::StatusOr<auth::Role> CheckLineOptions(const TokenLineOptions& options) {
  absl::StatusOr<auth::Role> role = auth::ParseRole(options.role);
  if (!role.ok())
    return absl::InvalidArgumentError(absl::StrCat("--role: ", role.status().message()));
  if (absl::Status status = CheckLabel(options.label); !status.ok()) return status;
  if (!options.worker_ids.empty()) {
    if (*role != auth::Role::kWorker) {
      return absl::InvalidArgumentError(
          "--worker-ids binds a worker token to the worker ids it may claim as; use it with "
          "--role worker");
    }
    for (char c : options.worker_ids) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u == 0x7f) {
        return absl::InvalidArgumentError(
            "--worker-ids: no spaces or control characters (it is one field of the token-file "
            "line)");
      }
    }
  }
  return role;
}

TokenLine MakeTokenLine(auth::Role role, const TokenLineOptions& options,
                        const std::string& token) {
  TokenLine line{role, options.worker_ids, std::string(absl::StripAsciiWhitespace(options.label)),
                 auth::Sha256Hex(token), ""};
  line.text = auth::RoleName(role);
  if (!line.worker_ids.empty()) absl::StrAppend(&line.text, ":", line.worker_ids);
  absl::StrAppend(&line.text, " ", line.sha256);
  if (!line.label.empty()) absl::StrAppend(&line.text, " ", line.label);
  return line;
}

Json ToJson(const TokenLine& line) {
  Json out;
  out["role"] = auth::RoleName(line.role);
  out["worker_ids"] = line.worker_ids;
  out["label"] = line.label;
  out["sha256"] = line.sha256;
  out["token_file_line"] = line.text;
  return out;
}

absl::Status RunTokenNew(const GlobalOptions& global, const TokenLineOptions& options) {
  absl::StatusOr<auth::Role> role = CheckLineOptions(options);
  if (!role.ok()) return role.status();
  absl::StatusOr<std::string> token = auth::GenerateToken();
  if (!token.ok()) return token.status();
  const TokenLine line = MakeTokenLine(*role, options, *token);
  if (global.json()) {
    Json out;
    out["token"] = *token;
    out.update(ToJson(line));
    std::cout << Dump(out);
    return absl::OkStatus();
  }
  std::cout << *token << "\n" << line.text << "\n";
  std::cerr << "skillctl: line 1 is the " << auth::RoleName(*role)
            << " token, shown only this once: give it to the client (skill-worker/skillctl "
               "--token-file FILE with mode 0600, or env SKILLSTORE_TOKEN).\n"
               "skillctl: line 2 goes into skillstore-server's --auth-token-file (it holds only "
               "the token's SHA-256); send the server SIGHUP to load it.\n";
  return absl::OkStatus();
}

absl::Status RunTokenHash(const GlobalOptions& global, const TokenLineOptions& options) {
  absl::StatusOr<auth::Role> role = CheckLineOptions(options);
  if (!role.ok()) return role.status();
  const std::string input((std::istreambuf_iterator<char>(std::cin)),
                          std::istreambuf_iterator<char>());
  const std::string token(absl::StripAsciiWhitespace(input));
  if (absl::Status status = auth::CheckToken(token, "token hash: stdin"); !status.ok()) {
    return status;
  }
  const TokenLine line = MakeTokenLine(*role, options, token);
  if (global.json()) {
    std::cout << Dump(ToJson(line));
    return absl::OkStatus();
  }
  std::cout << line.text << "\n";
  return absl::OkStatus();
}

void AddRoleOptions(CLI::App* command, TokenLineOptions* options) {
  command->add_option("--role", options->role, "reader, worker or admin")
      ->required()
      ->check(CLI::IsMember({"reader", "worker", "admin"}));
  command->add_option("--worker-ids", options->worker_ids,
                      "worker tokens only: the worker ids (--worker-id) this token may claim, "
                      "heartbeat and submit as, a shell-style pattern such as 'build-*' "
                      "(default: any)");
}

}  // namespace

void AddTokenCommands(CLI::App& app, const GlobalOptions& global, CommandRunner* selected) {
  CLI::App* token = app.add_subcommand(
      "token", "Make bearer tokens and their lines for skillstore-server --auth-token-file.");
  token->require_subcommand(1);

  auto new_options = std::make_shared<TokenLineOptions>();
  CLI::App* make = token->add_subcommand(
      "new",
      "Print a fresh random token (line 1, for the client) and its token-file line "
      "(line 2: '<role>[:<worker ids>] <sha256> [label]', for the server). Contacts no "
      "server.");
  AddRoleOptions(make, new_options.get());
  make->add_option("--label", new_options->label,
                   "who or what holds the token; the server logs it on refusals");
  make->callback([&global, new_options, selected] {
    *selected = [&global, new_options] { return RunTokenNew(global, *new_options); };
  });

  auto hash_options = std::make_shared<TokenLineOptions>();
  CLI::App* hash =
      token->add_subcommand("hash",
                            "Read an existing token from stdin and print its token-file line "
                            "'<role>[:<worker ids>] <sha256> [label]'.");
  AddRoleOptions(hash, hash_options.get());
  hash->add_option("--label", hash_options->label, "label written at the end of the line");
  hash->callback([&global, hash_options, selected] {
    *selected = [&global, hash_options] { return RunTokenHash(global, *hash_options); };
  });
}

}  // namespace skillstore::cli
