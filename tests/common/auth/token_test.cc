// Tests of common/auth/token.h: SHA-256 against published vectors, token
// shape and uniqueness, role names, constant-time compare semantics.
#include "common/auth/token.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace skillstore::auth {
namespace {

TEST(Sha256Hex, KnownVectors) {
  // FIPS 180-2 / NIST examples.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Embedded NUL bytes are data, not terminators.
  EXPECT_NE(Sha256Hex(absl::string_view("a\0b", 3)), Sha256Hex("a"));
}

TEST(GenerateToken, WellFormedAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<std::string> token = GenerateToken();
    ASSERT_TRUE(token.ok()) << token.status();
    ASSERT_EQ(token->size(), 4u + 43u) << *token;
    ASSERT_EQ(token->substr(0, 4), "sks_");
    for (char c : token->substr(4)) {
      ASSERT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_')
          << "not base64url: " << *token;
    }
    ASSERT_TRUE(seen.insert(*token).second) << "duplicate token " << *token;
  }
}

TEST(Roles, ParseAndName) {
  for (Role role : {Role::kReader, Role::kWorker, Role::kAdmin}) {
    absl::StatusOr<Role> parsed = ParseRole(RoleName(role));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, role);
  }
  absl::StatusOr<Role> bad = ParseRole("Admin");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("reader, worker or admin"), absl::string_view::npos);
  EXPECT_FALSE(ParseRole("").ok());
}

TEST(Roles, Ordering) {
  EXPECT_TRUE(RoleAllows(Role::kAdmin, Role::kWorker));
  EXPECT_TRUE(RoleAllows(Role::kAdmin, Role::kReader));
  EXPECT_TRUE(RoleAllows(Role::kWorker, Role::kWorker));
  EXPECT_FALSE(RoleAllows(Role::kWorker, Role::kReader));
  EXPECT_TRUE(RoleAllows(Role::kReader, Role::kReader));
  EXPECT_FALSE(RoleAllows(Role::kReader, Role::kWorker));
  EXPECT_FALSE(RoleAllows(Role::kWorker, Role::kAdmin));
}

TEST(ConstantTimeEquals, Semantics) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("same", "same"));
  EXPECT_FALSE(ConstantTimeEquals("same", "sane"));
  EXPECT_FALSE(ConstantTimeEquals("same", "same!"));
  EXPECT_FALSE(ConstantTimeEquals(absl::string_view("a\0b", 3), absl::string_view("a\0c", 3)));
}

}  // namespace
}  // namespace skillstore::auth
