#include "common/json_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

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

// True when some byte of the (up to eight) bytes in `w` needs escaping.
inline bool WordNeedsEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t control = (w - kOnes * 0x20) & ~w;
  const uint64_t quote = w ^ (kOnes * '"');
  const uint64_t backslash = w ^ (kOnes * '\\');
  return ((control | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHigh) != 0;
}

// Index of the first byte of `s` at or after `i` that needs escaping, or
// s.size(). Tests eight bytes at a time: almost all output text is plain
// prose that needs none, and a byte loop was the writer's main cost.
size_t NextEscape(std::string_view s, size_t i) {
  const char* p = s.data();
  const size_t n = s.size();
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (WordNeedsEscape(w)) break;
  }
  for (; i < n; ++i) {
    if (kEscape.needs[static_cast<unsigned char>(p[i])]) return i;
  }
  return n;
}

// Whether a short string (at most 64 bytes) needs no escaping at all,
// without a byte loop: the last word overlaps the one before it, and a
// string under eight bytes is padded with a byte that needs none.
inline bool ShortNeedsNoEscape(std::string_view s) {
  const size_t n = s.size();
  if (n < 8) {
    uint64_t w = 0x6161616161616161ULL;  // "aaaaaaaa"
    if (n > 0) std::memcpy(&w, s.data(), n);
    return !WordNeedsEscape(w);
  }
  size_t i = 0;
  uint64_t w;
  for (; i + 8 < n; i += 8) {
    std::memcpy(&w, s.data() + i, 8);
    if (WordNeedsEscape(w)) return false;
  }
  std::memcpy(&w, s.data() + n - 8, 8);
  return !WordNeedsEscape(w);
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  const size_t n = s.size();
  if (n <= 62 && ShortNeedsNoEscape(s)) {
    // Keys and short values: one append of the quoted text.
    char quoted[64];
    quoted[0] = '"';
    if (n > 0) std::memcpy(quoted + 1, s.data(), n);
    quoted[n + 1] = '"';
    out->append(quoted, n + 2);
    return;
  }
  const size_t first = NextEscape(s, 0);
  if (first == n) {
    out->push_back('"');
    out->append(s.data(), n);
    out->push_back('"');
    return;
  }
  // Size the output once, then write through a pointer: an append call per
  // escape (statements are full of quotes and line breaks) cost more than
  // a second scan. An escape is two bytes ("\n") or six ("\u001f").
  size_t escaped = n + 2;
  for (size_t i = first; i < n; i = NextEscape(s, i + 1)) {
    switch (s[i]) {
      case '"': case '\\': case '\n': case '\r': case '\t': case '\b': case '\f':
        escaped += 1;
        break;
      default:
        escaped += 5;
    }
  }
  const size_t old = out->size();
  out->resize(old + escaped);
  char* o = out->data() + old;
  *o++ = '"';
  size_t run = 0;  // start of the current run of bytes that need no escape
  for (size_t i = first; i < n; i = NextEscape(s, i + 1)) {
    std::memcpy(o, s.data() + run, i - run);
    o += i - run;
    run = i + 1;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    *o++ = '\\';
    switch (c) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '\n': *o++ = 'n'; break;
      case '\r': *o++ = 'r'; break;
      case '\t': *o++ = 't'; break;
      case '\b': *o++ = 'b'; break;
      case '\f': *o++ = 'f'; break;
      default:
        *o++ = 'u';
        *o++ = '0';
        *o++ = '0';
        *o++ = kHex[c >> 4];
        *o++ = kHex[c & 0xF];
    }
  }
  std::memcpy(o, s.data() + run, n - run);
  o += n - run;
  *o = '"';
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
  size_t len = 0;
  // Engine values (confidences) lie within a hair of a whole number of
  // hundredths, far from any rounding tie, so "%.2f" prints exactly that
  // number: format it directly rather than through printf, which cost
  // more than the rest of the field. Anything else goes to snprintf.
  const double hundredths = value * 100.0;
  const double rounded = std::nearbyint(hundredths);
  if (!std::signbit(value) && value < 1e9 && std::fabs(hundredths - rounded) < 1e-6) {
    const uint64_t h = static_cast<uint64_t>(rounded);
    const std::string whole = std::to_string(h / 100);
    std::memcpy(buf, whole.data(), whole.size());
    len = whole.size();
    buf[len++] = '.';
    buf[len++] = static_cast<char>('0' + (h / 10) % 10);
    buf[len++] = static_cast<char>('0' + h % 10);
  } else {
    const int n = std::snprintf(buf, sizeof(buf), "%.2f", value);
    len = n > 0 ? std::min(static_cast<size_t>(n), sizeof(buf) - 1) : 0;
  }
  while (len > 1 && buf[len - 1] == '0') --len;
  if (len > 0 && buf[len - 1] == '.') buf[len++] = '0';
  out_.append(buf, len);
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
