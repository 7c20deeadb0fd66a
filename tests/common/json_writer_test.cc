// JsonWriter against nlohmann::json, the reference it replaced: the same
// bytes for every string (each escape, the short and long string paths, the
// word-at-a-time scan's edges) and for whole documents in both layouts.
#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace skillstore {
namespace {

using nlohmann::ordered_json;

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string Reference(const std::string& s) { return ordered_json(s).dump(); }

// Strings of every length up to 200 around each byte that needs escaping,
// at every position: the short path (<= 64 bytes), the word scan's tail and
// the sized long path all see it.
TEST(JsonWriterTest, EveryEscapeAtEveryPositionMatchesNlohmann) {
  std::vector<char> specials;
  for (int c = 0; c < 0x20; ++c) specials.push_back(static_cast<char>(c));
  specials.push_back('"');
  specials.push_back('\\');
  for (char special : specials) {
    for (size_t length : {1, 7, 8, 9, 15, 16, 17, 62, 63, 64, 65, 66, 130, 200}) {
      for (size_t at = 0; at < length; at += (length > 20 ? 7 : 1)) {
        std::string s(length, 'a');
        s[at] = special;
        ASSERT_EQ(Quoted(s), Reference(s)) << "byte " << int{special} << " at " << at
                                          << " of " << length;
      }
    }
  }
  // No escapes at all, and multi-byte UTF-8 passed through as is.
  for (size_t length = 0; length <= 130; ++length) {
    const std::string plain(length, 'x');
    ASSERT_EQ(Quoted(plain), Reference(plain));
  }
  const std::string utf8 = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \"q\"\n\x7f";
  EXPECT_EQ(Quoted(utf8), Reference(utf8));
  // AppendJsonString appends: what is already there stays.
  std::string out = "prefix";
  AppendJsonString("a\tb", &out);
  EXPECT_EQ(out, "prefix\"a\\tb\"");
}

// The same document through the writer and through nlohmann, in both
// layouts. It is larger than the writer's first buffer, so the buffer grows
// several times on the way.
TEST(JsonWriterTest, DocumentsMatchNlohmannInBothLayouts) {
  ordered_json nested = {{"k", {1, 2, {{"deep", "x\ny"}}}}, {"empty", ordered_json::object()}};
  ordered_json expected = ordered_json::object();
  expected["empty_object"] = ordered_json::object();
  expected["empty_array"] = ordered_json::array();
  expected["ints"] = {0, -1, std::numeric_limits<int64_t>::min(),
                      std::numeric_limits<int64_t>::max()};
  expected["flags"] = {true, false};
  expected["confidence"] = 0.9;
  expected["nested"] = nested;
  ordered_json items = ordered_json::array();
  for (int i = 0; i < 40; ++i) {
    items.push_back({{"id", i}, {"text", std::string(i * 3, 'w') + "\"end\"\t"}});
  }
  expected["items"] = items;

  for (JsonLayout layout : {JsonLayout::kCompact, JsonLayout::kIndented}) {
    JsonWriter w(layout);
    w.BeginObject();
    w.Key("empty_object");
    w.BeginObject();
    w.EndObject();
    w.Key("empty_array");
    w.BeginArray();
    w.EndArray();
    w.Key("ints");
    w.BeginArray();
    w.Int(0);
    w.Int(-1);
    w.Int(std::numeric_limits<int64_t>::min());
    w.Int(std::numeric_limits<int64_t>::max());
    w.EndArray();
    w.Key("flags");
    w.BeginArray();
    w.Bool(true);
    w.Bool(false);
    w.EndArray();
    w.Key("confidence");
    w.Decimal2(0.9);
    w.Key("nested");
    w.Value(nested);
    w.Key("items");
    w.BeginArray();
    for (int i = 0; i < 40; ++i) {
      w.BeginObject();
      w.Field("id", int64_t{i});
      w.Field("text", std::string(i * 3, 'w') + "\"end\"\t");
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    const std::string text = w.Release();
    EXPECT_EQ(text, layout == JsonLayout::kCompact ? expected.dump() : expected.dump(2))
        << (layout == JsonLayout::kCompact ? "compact" : "indented");
  }
}

// Elements written with their shared fields recorded once and replayed give
// the bytes of writing every field, in both layouts; a recording is not
// replayed where the writer's state differs (another depth, right after a
// key), since its separators and indentation would be wrong there.
TEST(JsonWriterTest, ReplayedRecordingsMatchDirectWrites) {
  auto shared = [](JsonWriter* w) {
    w->Key("source");
    w->BeginObject();
    w->Field("kind", "claude_skill");
    w->Field("ref", "dir/SKILL.md");
    w->EndObject();
    w->Key("text");
  };
  for (JsonLayout layout : {JsonLayout::kCompact, JsonLayout::kIndented}) {
    JsonWriter direct(layout);
    JsonWriter replayed(layout);
    JsonWriter::Recording recording;
    int replays = 0;
    for (JsonWriter* w : {&direct, &replayed}) {
      w->BeginObject();
      w->Key("items");
      w->BeginArray();
      for (int i = 0; i < 5; ++i) {
        w->BeginObject();
        w->Field("id", int64_t{i});
        if (w == &direct) {
          shared(w);
        } else if (w->Replay(recording)) {
          ++replays;
        } else {
          w->StartRecording(&recording);
          shared(w);
          w->FinishRecording(&recording);
        }
        w->String("value " + std::to_string(i));
        w->EndObject();
      }
      w->EndArray();
      if (w == &replayed) {
        // One level up, and after a key: both differ from the recording's start.
        EXPECT_FALSE(w->Replay(recording));
        w->Key("last");
        EXPECT_FALSE(w->Replay(recording));
        w->Int(1);
      } else {
        w->Key("last");
        w->Int(1);
      }
      w->EndObject();
    }
    EXPECT_EQ(replays, 4);
    EXPECT_EQ(replayed.Release(), direct.Release());
  }
}

TEST(JsonWriterTest, Decimal2DropsTrailingZerosAndRoundsToHundredths) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0.9, "0.9"}, {0.75, "0.75"}, {1.0, "1.0"}, {0.0, "0.0"}, {0.6, "0.6"},
      {12.5, "12.5"}, {0.333333, "0.33"}, {-0.25, "-0.25"}};
  for (const auto& [value, text] : cases) {
    JsonWriter w(JsonLayout::kCompact);
    w.Decimal2(value);
    EXPECT_EQ(w.Release(), text) << value;
  }
}

}  // namespace
}  // namespace skillstore
