// CheckJsonText: exactly the JSON texts a strict parser accepts (nlohmann's,
// which skillctl reads results with), with the problem and offset named.
#include "common/json_text.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "nlohmann/json.hpp"

namespace skillstore {
namespace {

// A result-like document: nesting, escapes, non-ASCII text, numbers of
// every form, and strings long enough for the eight-byte scan.
const std::string kDocument = R"({"meta":{"skill_id":"claude__skill__demo","name":"démo ✓",)"
                              R"("score":-12.5e+3,"zero":0,"tiny":1E-7,"ok":true,"none":null},)"
                              R"("items":[{"id":"a_001","text":"Run \"ls -la\"\n\tthen \\ stop",)"
                              R"("u":"\u00e9\uD83D\uDE00/\/"},[],{},[1,2,[3,[4]]],"𝄞 music"],)"
                              R"( "pad" : "abcdefghijklmnopqrstuvwxyz0123456789" })";

void ExpectRefused(const std::string& text, const std::string& message) {
  const absl::Status status = CheckJsonText(text);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << text;
  EXPECT_EQ(status.message(), message) << text;
}

TEST(JsonTextTest, AcceptsJsonValuesOfEveryKind) {
  EXPECT_TRUE(CheckJsonText(kDocument).ok()) << CheckJsonText(kDocument);
  for (const char* text : {"{}", "[]", "\"\"", "0", "-0.0e-0", "true", "false", "null",
                           " \t\r\n{ \"a\" : [ 1 , 2 ] } \n", "\"\\u0000\"",
                           "123456789012345678901234567890", "1e-400", "1.7e308"}) {
    EXPECT_TRUE(CheckJsonText(text).ok()) << text << ": " << CheckJsonText(text);
  }
}

TEST(JsonTextTest, NamesTheProblemAndItsOffset) {
  ExpectRefused("", "the text ends where a value should start (offset 0)");
  ExpectRefused("ok", "expected a value (offset 0)");
  ExpectRefused("{\"a\":1", "expected ',' or '}' in an object (offset 6)");
  ExpectRefused("{\"a\":1,}", "expected a string key in an object (offset 7)");
  ExpectRefused("{a:1}", "expected a string key in an object (offset 1)");
  ExpectRefused("{\"a\" 1}", "expected ':' after an object key (offset 5)");
  ExpectRefused("[1,]", "expected a value (offset 3)");
  ExpectRefused("[1 2]", "expected ',' or ']' in an array (offset 3)");
  ExpectRefused("{} {}", "text after the JSON value (offset 3)");
  ExpectRefused("[\"abc", "a string is never closed (offset 1)");
  ExpectRefused("\"abc\\", "a string is never closed (offset 0)");
  ExpectRefused("\"a\tb\"",
                "a control character inside a string (write it as an escape such as \\n) "
                "(offset 2)");
  ExpectRefused("\"\\x\"",
                "an escape other than \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX (offset 1)");
  ExpectRefused("\"\\u12G4\"", "\\u not followed by four hex digits (offset 1)");
  ExpectRefused("\"\\uDE00\"",
                "a \\u escape of a low surrogate with no high surrogate before it (offset 1)");
  ExpectRefused("\"\\uD83Dx\"",
                "a \\u escape of a high surrogate with no low surrogate after it (offset 1)");
  ExpectRefused("\"caf\xC3\"", "invalid UTF-8 (offset 4)");
  ExpectRefused("\"\xED\xA0\x80\"", "invalid UTF-8 (offset 1)");  // an encoded surrogate
  ExpectRefused("01", "text after the JSON value (offset 1)");
  ExpectRefused("-", "expected a value (offset 0)");
  ExpectRefused("1.", "a number with no digit after its '.' (offset 2)");
  ExpectRefused("1e+", "a number with no digit in its exponent (offset 3)");
  ExpectRefused("tru", "expected a value (offset 0)");
  ExpectRefused("[1e400]", "a number too large for a double (offset 1)");
  ExpectRefused("-" + std::string(400, '9'), "a number too large for a double (offset 0)");
  ExpectRefused("\xEF\xBB\xBF{}", "expected a value (offset 0)");  // no byte order mark
}

TEST(JsonTextTest, NestingIsBounded) {
  const std::string deepest(kMaxJsonTextDepth, '[');
  EXPECT_TRUE(CheckJsonText(deepest + std::string(kMaxJsonTextDepth, ']')).ok());
  ExpectRefused("[" + deepest + "]" + std::string(kMaxJsonTextDepth, ']'),
                "arrays and objects nest deeper than 512 levels (offset 512)");
}

// Every byte that needs a look, at every position of the eight-byte window.
TEST(JsonTextTest, TheEightByteScanStopsAtEveryPosition) {
  for (size_t position = 0; position < 24; ++position) {
    std::string inside(24, 'x');
    for (const std::string& special : {std::string("\\n"), std::string("\xC3\xA9"),
                                       std::string("\\\""), std::string("\\u0041")}) {
      std::string text =
          "\"" + inside.substr(0, position) + special + inside.substr(position) + "\"";
      EXPECT_TRUE(CheckJsonText(text).ok()) << text;
    }
    std::string early_quote = "\"" + inside;
    early_quote[1 + position] = '"';
    EXPECT_EQ(CheckJsonText(early_quote).ok(), position == 23) << early_quote;
    std::string control = "\"" + inside + "\"";
    control[1 + position] = '\x1f';
    EXPECT_FALSE(CheckJsonText(control).ok()) << position;
    std::string stray = "\"" + inside + "\"";
    stray[1 + position] = '\x80';
    EXPECT_FALSE(CheckJsonText(stray).ok()) << position;
  }
}

// Random edits of a document: the verdict must be nlohmann's (its parser is
// strict RFC 8259 with checked UTF-8 and surrogates; it also skips a leading
// byte order mark, which the edits here never make).
TEST(JsonTextTest, AgreesWithAStrictParserOnEditedDocuments) {
  std::mt19937 random(20261127);
  const std::string alphabet = "{}[]\":,\\ 0123456789.eE+-tfnulrasx\t\n\xC3\xA9\x80\xFF";
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = kDocument;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = random() % (text.size() + 1);
      const char byte = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0:
          if (at < text.size()) text.erase(at, 1);
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte);
          break;
        default:
          if (at < text.size()) text[at] = byte;
      }
    }
    const bool strict = nlohmann::json::accept(text);
    accepted += strict;
    EXPECT_EQ(CheckJsonText(text).ok(), strict) << text << "\n" << CheckJsonText(text);
  }
  // Both verdicts were exercised.
  EXPECT_GT(accepted, 1000);
  EXPECT_LT(accepted, 19000);
}

}  // namespace
}  // namespace skillstore
