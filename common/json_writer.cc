#include "common/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if defined(__SSE2__)
// True when some byte of the sixteen at `p` needs escaping.
inline bool Chunk16NeedsEscape(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // Unsigned v <= 0x1F: the minimum with 0x1F is v itself.
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  return _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash))) != 0;
}
#endif

// Whether a short string (at most 64 bytes) needs no escaping at all,
// without a byte loop: the last word overlaps the one before it, and a
// string under eight bytes is padded with a byte that needs none.
[[gnu::always_inline]] inline bool ShortNeedsNoEscape(std::string_view s) {
  const size_t n = s.size();
#if defined(__SSE2__)
  // Sixteen bytes per test (x86-64 always has SSE2): most values are 16 to
  // 64 bytes, and this test runs for every value the engine writes.
  if (n >= 16) {
    size_t i = 0;
    for (; i + 16 < n; i += 16) {
      if (Chunk16NeedsEscape(s.data() + i)) return false;
    }
    return !Chunk16NeedsEscape(s.data() + n - 16);
  }
#endif
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

// Index of the first byte of `s` that needs escaping, or s.size().
size_t FirstEscape(std::string_view s) {
  if (s.size() <= 64 && ShortNeedsNoEscape(s)) return s.size();  // keys, short values
  return NextEscape(s, 0);
}

// Bytes `s` takes as a JSON string literal, quotes included, given the
// index of its first byte that needs escaping. An escape is two bytes
// ("\n") or six ("\u001f").
size_t QuotedSize(std::string_view s, size_t first) {
  size_t size = s.size() + 2;
  for (size_t i = first; i < s.size(); i = NextEscape(s, i + 1)) {
    switch (s[i]) {
      case '"': case '\\': case '\n': case '\r': case '\t': case '\b': case '\f':
        size += 1;
        break;
      default:
        size += 5;
    }
  }
  return size;
}

// Writes `s` as a JSON string literal at `o`, which has room for
// QuotedSize(s, first) bytes. Sizing first and then writing through a
// pointer beats an append per escape (statements are full of quotes and
// line breaks).
void WriteQuoted(std::string_view s, size_t first, char* o) {
  static const char kHex[] = "0123456789abcdef";
  const size_t n = s.size();
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

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  const size_t first = FirstEscape(s);
  const size_t size = first == s.size() ? s.size() + 2 : QuotedSize(s, first);
  const size_t old = out->size();
  out->resize(old + size);
  WriteQuoted(s, first, out->data() + old);
}

std::string JsonWriter::Release() const {
  std::string out;
  out.reserve(size_ + 1);
  out.append(buffer_.get(), size_);
  return out;
}

void JsonWriter::Reserve(size_t n) {
  if (n > capacity_ - size_) Grow(n);
}

void JsonWriter::Grow(size_t n) {
  const size_t capacity = std::max({2 * capacity_, size_ + n, size_t{256}});
  // new char[] without (): not zeroed, every byte is written before it is read.
  std::unique_ptr<char[]> grown(new char[capacity]);
  if (size_ > 0) std::memcpy(grown.get(), buffer_.get(), size_);
  buffer_ = std::move(grown);
  capacity_ = capacity;
}

void JsonWriter::WriteString(std::string_view s) {
  // Most values are short plain text (names, types, locators): those are
  // copied between quotes here, without the escape scan's index bookkeeping
  // and the calls of the general path below.
  if (s.size() <= 64 && ShortNeedsNoEscape(s)) {
    char* o = Room(s.size() + 2);
    o[0] = '"';
    std::memcpy(o + 1, s.data(), s.size());
    o[s.size() + 1] = '"';
    size_ += s.size() + 2;
    return;
  }
  const size_t first = NextEscape(s, 0);
  const size_t size = first == s.size() ? s.size() + 2 : QuotedSize(s, first);
  WriteQuoted(s, first, Room(size));
  size_ += size;
}

void JsonWriter::Newline() {
  const size_t indent = 2 * has_member_.size();
  char* o = Room(1 + indent);
  o[0] = '\n';
  std::memset(o + 1, ' ', indent);
  size_ += 1 + indent;
}

void JsonWriter::Open(char c) {
  BeforeValue();
  Put(c);
  has_member_.push_back(0);
}

void JsonWriter::Close(char c) {
  const bool had = has_member_.back() != 0;
  has_member_.pop_back();
  if (had && layout_ == JsonLayout::kIndented) Newline();
  Put(c);
}

void JsonWriter::String(std::string_view value) {
  BeforeValue();
  WriteString(value);
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  char* o = Room(20);  // "-9223372036854775808"
  size_ += std::to_chars(o, o + 20, value).ptr - o;
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  Put(value ? std::string_view("true") : std::string_view("false"));
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
    len = std::to_chars(buf, buf + 20, h / 100).ptr - buf;
    buf[len++] = '.';
    buf[len++] = static_cast<char>('0' + (h / 10) % 10);
    buf[len++] = static_cast<char>('0' + h % 10);
  } else {
    const int n = std::snprintf(buf, sizeof(buf), "%.2f", value);
    len = n > 0 ? std::min(static_cast<size_t>(n), sizeof(buf) - 1) : 0;
  }
  while (len > 1 && buf[len - 1] == '0') --len;
  if (len > 0 && buf[len - 1] == '.') buf[len++] = '0';
  Put(std::string_view(buf, len));
}

void JsonWriter::Value(const nlohmann::ordered_json& value) {
  BeforeValue();
  if (layout_ == JsonLayout::kCompact) {
    Put(value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    return;
  }
  const std::string text =
      value.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // Re-indent the nested lines to the current depth.
  const std::string pad(2 * has_member_.size(), ' ');
  size_t line = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', line)) {
    Put(std::string_view(text).substr(line, nl + 1 - line));
    Put(pad);
    line = nl + 1;
  }
  Put(std::string_view(text).substr(line));
}

}  // namespace skillstore
