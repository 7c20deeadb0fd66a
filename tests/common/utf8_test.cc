// common/utf8: the one UTF-8 check behind engine inputs, worker results, the
// server's result bytes and the JSON logs.
#include "common/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace skillstore {
namespace {

TEST(Utf8Test, WellFormedTextPasses) {
  for (const std::string& text :
       {std::string(), std::string("plain ascii"), std::string(1000, 'x'),
        std::string("caf\xC3\xA9"), std::string("\xE2\x82\xAC euro"),
        std::string("\xF0\x9F\x98\x80 emoji"), std::string("\xEF\xBB\xBF bom"),
        std::string("\xED\x9F\xBF last before surrogates"), std::string("\xF4\x8F\xBF\xBF"),
        std::string("nul \0 is ascii", 14)}) {
    EXPECT_TRUE(IsValidUtf8(text)) << text;
    EXPECT_EQ(ToValidUtf8(text), text);
  }
}

TEST(Utf8Test, IllFormedTextFailsAtTheFirstBadByte) {
  struct Case {
    std::string text;
    size_t bad_offset;
  };
  const std::string run(19, 'a');  // the bad byte lands after the 8-byte ASCII fast path
  for (const Case& c : std::vector<Case>{
           {"\x80", 0},                     // lone continuation byte
           {"ab\xC3(", 2},                  // missing continuation
           {"\xC0\xAF", 0},                 // overlong '/'
           {"\xE0\x80\xAF", 0},             // overlong 3-byte
           {"\xED\xA0\x80", 0},             // surrogate U+D800
           {"\xF4\x90\x80\x80", 0},         // above U+10FFFF
           {"\xF5\x80\x80\x80", 0},         // lead byte that never occurs
           {"ok\xE2\x82", 2},               // truncated at the end
           {run + "\xFF" + "tail", 19},
       }) {
    size_t bad = 12345;
    EXPECT_FALSE(IsValidUtf8(c.text, &bad)) << c.text;
    EXPECT_EQ(bad, c.bad_offset) << c.text;
    EXPECT_TRUE(IsValidUtf8(ToValidUtf8(c.text))) << c.text;
  }
}

TEST(Utf8Test, PrefixesEndBetweenCharacters) {
  const std::string text =
      "ab\xC3\xA9"
      "c\xF0\x9F\x98\x80";  // a b é c 😀
  EXPECT_EQ(Utf8PrefixLength(text, 100), text.size());
  EXPECT_EQ(Utf8PrefixLength(text, 2), 2u);
  EXPECT_EQ(Utf8PrefixLength(text, 3), 2u);  // not inside é
  EXPECT_EQ(Utf8PrefixLength(text, 4), 4u);
  EXPECT_EQ(Utf8PrefixLength(text, 7), 5u);  // not inside 😀
  EXPECT_EQ(Utf8PrefixLength(text, 0), 0u);
}

TEST(Utf8Test, RepairReplacesOnlyTheBadBytes) {
  EXPECT_EQ(ToValidUtf8("a\xFF" "b\xC3\xA9" "c\x80"), "a\xEF\xBF\xBD" "b\xC3\xA9" "c\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Utf8Test, AsciiIsPassedOverAWordAtATime) {
  const std::string text = std::string(16, 'a') + "bc\xC3\xA9" + std::string(10, 'd');
  EXPECT_EQ(SkipAsciiWords(text, 0), 16u);   // the word holding é starts there
  EXPECT_EQ(SkipAsciiWords(text, 3), 11u);   // whole words from 3: 3..10 is ASCII
  EXPECT_EQ(SkipAsciiWords(text, 19), 19u);  // its second byte starts the word
  EXPECT_EQ(SkipAsciiWords(text, 20), 28u);  // 20..27 is ASCII; 2 bytes remain
  EXPECT_EQ(SkipAsciiWords("", 0), 0u);
}

// What skillctl prints and the server logs of text from strangers.
TEST(Utf8Test, ControlsAndBidiOverridesAreEscapedForPeople) {
  EXPECT_EQ(WithControlsEscaped("a\tb\r\n\x1b[2J\x7f"), "a\\x09b\\x0d\\x0a\\x1b[2J\\x7f");
  EXPECT_EQ(WithControlsEscaped("nel\xC2\x85"
                                "csi\xC2\x9B"),
            "nel\\x85csi\\x9b");  // C1
  // RIGHT-TO-LEFT OVERRIDE and FIRST STRONG ISOLATE; é, — and 😀 are kept.
  EXPECT_EQ(WithControlsEscaped("w\xE2\x80\xAE"
                                "1\xE2\x81\xA8 \xC3\xA9\xE2\x80\x94\xF0\x9F\x98\x80"),
            "w\\u{202e}1\\u{2068} \xC3\xA9\xE2\x80\x94\xF0\x9F\x98\x80");
  EXPECT_EQ(WithControlsEscaped("\xC2"), "\xC2");  // a cut sequence: not a control
}

}  // namespace
}  // namespace skillstore
