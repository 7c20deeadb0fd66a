#include "common/json_writer.h"

#include <cstdio>

namespace skillstore {

namespace {

struct EscapeTable {
  bool needs[256];
  constexpr EscapeTable() : needs() {
    for (int c = 0; c < 0x20; ++c) needs[c] = true;
    needs[static_cast<int>('"')] = true;
    needs[static_cast<int>('\\')] = true;
  }
};
constexpr EscapeTable kEscape;

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the current run of bytes that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!kEscape.needs[c]) continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void JsonWriter::Newline() {
  if (layout_ == JsonLayout::kCompact) return;
  out_.push_back('\n');
  out_.append(2 * has_member_.size(), ' ');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_member_.empty()) {
    if (has_member_.back()) out_.push_back(',');
    has_member_.back() = true;
    Newline();
  }
}

void JsonWriter::Open(char c) {
  BeforeValue();
  out_.push_back(c);
  has_member_.push_back(false);
}

void JsonWriter::Close(char c) {
  const bool had = has_member_.back();
  has_member_.pop_back();
  if (had) Newline();
  out_.push_back(c);
}

void JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(key, &out_);
  out_.append(layout_ == JsonLayout::kCompact ? ":" : ": ");
  after_key_ = true;
}

void JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(value, &out_);
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  out_.append(std::to_string(value));
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_.append(value ? "true" : "false");
}

void JsonWriter::Decimal2(double value) {
  BeforeValue();
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", value);
  std::string s(buf);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s += '0';
  out_.append(s);
}

void JsonWriter::Value(const nlohmann::ordered_json& value) {
  BeforeValue();
  if (layout_ == JsonLayout::kCompact) {
    out_.append(value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    return;
  }
  const std::string text =
      value.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // Re-indent the nested lines to the current depth.
  const std::string pad(2 * has_member_.size(), ' ');
  for (char c : text) {
    out_.push_back(c);
    if (c == '\n') out_.append(pad);
  }
}

}  // namespace skillstore
