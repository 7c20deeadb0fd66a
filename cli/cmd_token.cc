// skillctl token new | hash: make bearer tokens for skillstore-server's
// --auth-token-file. Neither talks to a server.
//
// The server's token file holds `<role> <sha256-hex of the token> [label]`
// lines, never the tokens: `token new` prints a fresh token (line 1, for the
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

struct TokenNewOptions {
  std::string role;
  std::string label;
};

struct TokenHashOptions {
  std::string role;
  std::string label;
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

std::string TokenFileLine(auth::Role role, const std::string& token, const std::string& label) {
  std::string line = absl::StrCat(auth::RoleName(role), " ", auth::Sha256Hex(token));
  std::string trimmed(absl::StripAsciiWhitespace(label));
  if (!trimmed.empty()) absl::StrAppend(&line, " ", trimmed);
  return line;
}

absl::Status RunTokenNew(const GlobalOptions& global, const TokenNewOptions& options) {
  absl::StatusOr<auth::Role> role = auth::ParseRole(options.role);
  if (!role.ok()) return absl::InvalidArgumentError(absl::StrCat("--role: ", role.status().message()));
  if (absl::Status status = CheckLabel(options.label); !status.ok()) return status;
  absl::StatusOr<std::string> token = auth::GenerateToken();
  if (!token.ok()) return token.status();
  const std::string line = TokenFileLine(*role, *token, options.label);
  if (global.json()) {
    Json out;
    out["token"] = *token;
    out["role"] = auth::RoleName(*role);
    out["label"] = std::string(absl::StripAsciiWhitespace(options.label));
    out["sha256"] = auth::Sha256Hex(*token);
    out["token_file_line"] = line;
    std::cout << Dump(out);
    return absl::OkStatus();
  }
  std::cout << *token << "\n" << line << "\n";
  std::cerr << "skillctl: line 1 is the " << auth::RoleName(*role)
            << " token, shown only this once: give it to the client (skill-worker/skillctl "
               "--token-file FILE with mode 0600, or env SKILLSTORE_TOKEN).\n"
               "skillctl: line 2 goes into skillstore-server's --auth-token-file (it holds only "
               "the token's SHA-256); send the server SIGHUP to load it.\n";
  return absl::OkStatus();
}

absl::Status RunTokenHash(const GlobalOptions& global, const TokenHashOptions& options) {
  absl::StatusOr<auth::Role> role = auth::ParseRole(options.role);
  if (!role.ok()) return absl::InvalidArgumentError(absl::StrCat("--role: ", role.status().message()));
  if (absl::Status status = CheckLabel(options.label); !status.ok()) return status;
  const std::string input((std::istreambuf_iterator<char>(std::cin)),
                          std::istreambuf_iterator<char>());
  const std::string token(absl::StripAsciiWhitespace(input));
  if (absl::Status status = client::CheckToken(token, "token hash: stdin"); !status.ok()) {
    return status;
  }
  const std::string line = TokenFileLine(*role, token, options.label);
  if (global.json()) {
    Json out;
    out["role"] = auth::RoleName(*role);
    out["label"] = std::string(absl::StripAsciiWhitespace(options.label));
    out["sha256"] = auth::Sha256Hex(token);
    out["token_file_line"] = line;
    std::cout << Dump(out);
    return absl::OkStatus();
  }
  std::cout << line << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddTokenCommands(CLI::App& app, const GlobalOptions& global, CommandRunner* selected) {
  CLI::App* token = app.add_subcommand(
      "token", "Make bearer tokens and their lines for skillstore-server --auth-token-file.");
  token->require_subcommand(1);

  auto new_options = std::make_shared<TokenNewOptions>();
  CLI::App* make = token->add_subcommand(
      "new",
      "Print a fresh random token (line 1, for the client) and its token-file line "
      "(line 2: '<role> <sha256> [label]', for the server). Contacts no server.");
  make->add_option("--role", new_options->role, "reader, worker or admin")
      ->required()
      ->check(CLI::IsMember({"reader", "worker", "admin"}));
  make->add_option("--label", new_options->label,
                   "who or what holds the token; the server logs it on refusals");
  make->callback([&global, new_options, selected] {
    *selected = [&global, new_options] { return RunTokenNew(global, *new_options); };
  });

  auto hash_options = std::make_shared<TokenHashOptions>();
  CLI::App* hash = token->add_subcommand(
      "hash",
      "Read an existing token from stdin and print its token-file line "
      "'<role> <sha256> [label]'.");
  hash->add_option("--role", hash_options->role, "reader, worker or admin")
      ->required()
      ->check(CLI::IsMember({"reader", "worker", "admin"}));
  hash->add_option("--label", hash_options->label, "label written at the end of the line");
  hash->callback([&global, hash_options, selected] {
    *selected = [&global, hash_options] { return RunTokenHash(global, *hash_options); };
  });
}

}  // namespace skillstore::cli
