#include "common/json_text.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace skillstore {
namespace {

constexpr uint64_t kEveryByte = 0x0101010101010101ULL;
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// The high bit of each byte of `word` that is below `limit` (<= 0x80). A
// borrow can flag bytes above the first flagged one, never below it, so the
// lowest flag is exact.
constexpr uint64_t BytesBelow(uint64_t word, uint64_t limit) {
  return (word - kEveryByte * limit) & ~word & kHighBits;
}

// Flags (high bits, the lowest exact) on the bytes of `word` that cannot be
// passed over inside a string: a quote or backslash, a control byte
// (< 0x20), or part of a multi-byte UTF-8 sequence (>= 0x80).
constexpr uint64_t BytesToLookAt(uint64_t word) {
  return (word & kHighBits) | BytesBelow(word, 0x20) | BytesBelow(word ^ (kEveryByte * '"'), 1) |
         BytesBelow(word ^ (kEveryByte * '\\'), 1);
}

// The index (0..7) in memory order of the byte with the lowest flag.
inline size_t FirstFlaggedByte(uint64_t flags) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return static_cast<size_t>(__builtin_ctzll(flags)) / 8;
#else
  (void)flags;
  return 0;  // the byte loop then walks to it
#endif
}

constexpr bool IsDigit(uint8_t c) { return c >= '0' && c <= '9'; }

// Recursive descent over the grammar of RFC 8259; each method leaves `at_`
// after what it read, or at the offending byte when it fails.
class Checker {
 public:
  explicit Checker(std::string_view text)
      : text_(text), s_(reinterpret_cast<const uint8_t*>(text.data())), n_(text.size()) {}

  absl::Status Run() {
    SkipSpace();
    if (!Value(0)) return Failure();
    SkipSpace();
    if (at_ != n_) {
      Fail("text after the JSON value");
      return Failure();
    }
    return absl::OkStatus();
  }

 private:
  bool Fail(std::string problem) {
    problem_ = std::move(problem);
    return false;
  }

  absl::Status Failure() const {
    return absl::InvalidArgumentError(absl::StrCat(problem_, " (offset ", at_, ")"));
  }

  void SkipSpace() {
    while (at_ < n_ && (s_[at_] == ' ' || s_[at_] == '\n' || s_[at_] == '\r' || s_[at_] == '\t')) {
      ++at_;
    }
  }

  bool Value(int depth) {
    if (at_ >= n_) return Fail("the text ends where a value should start");
    switch (s_[at_]) {
      case '{':
        return Container(depth + 1, '}');
      case '[':
        return Container(depth + 1, ']');
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }

  // An object (`close` '}') or an array (']'), from its opening byte.
  bool Container(int depth, char close) {
    if (depth > kMaxJsonTextDepth) {
      return Fail(
          absl::StrCat("arrays and objects nest deeper than ", kMaxJsonTextDepth, " levels"));
    }
    const bool object = close == '}';
    ++at_;
    SkipSpace();
    if (at_ < n_ && s_[at_] == close) {
      ++at_;
      return true;
    }
    while (true) {
      if (object) {
        if (at_ >= n_ || s_[at_] != '"') return Fail("expected a string key in an object");
        if (!String()) return false;
        SkipSpace();
        if (at_ >= n_ || s_[at_] != ':') return Fail("expected ':' after an object key");
        ++at_;
        SkipSpace();
      }
      if (!Value(depth)) return false;
      SkipSpace();
      if (at_ < n_ && s_[at_] == ',') {
        ++at_;
        SkipSpace();
        continue;
      }
      if (at_ < n_ && s_[at_] == close) {
        ++at_;
        return true;
      }
      return Fail(object ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
    }
  }

  bool String() {
    const size_t opening = at_;
    ++at_;
    while (true) {
      // Runs of plain ASCII eight bytes at a time, up to the first byte
      // that needs a look.
      while (at_ + 8 <= n_) {
        uint64_t word;
        std::memcpy(&word, s_ + at_, 8);
        if (const uint64_t flags = BytesToLookAt(word); flags != 0) {
          at_ += FirstFlaggedByte(flags);
          break;
        }
        at_ += 8;
      }
      if (at_ >= n_) {
        at_ = opening;
        return Fail("a string is never closed");
      }
      const uint8_t c = s_[at_];
      if (c == '"') {
        ++at_;
        return true;
      }
      if (c == '\\') {
        if (!Escape(opening)) return false;
      } else if (c < 0x20) {
        return Fail("a control character inside a string (write it as an escape such as \\n)");
      } else if (c >= 0x80) {
        const size_t length = Utf8SequenceLength(text_, at_);
        if (length == 0) return Fail("invalid UTF-8");
        at_ += length;
      } else {
        ++at_;
      }
    }
  }

  // The escape at `at_` (a backslash) inside the string opened at `opening`.
  bool Escape(size_t opening) {
    if (at_ + 1 >= n_) {
      at_ = opening;
      return Fail("a string is never closed");
    }
    switch (s_[at_ + 1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        at_ += 2;
        return true;
      case 'u':
        break;
      default:
        return Fail("an escape other than \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
    }
    const int unit = Hex4(at_ + 2);
    if (unit < 0) return Fail("\\u not followed by four hex digits");
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      return Fail("a \\u escape of a low surrogate with no high surrogate before it");
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const bool pair = at_ + 7 < n_ && s_[at_ + 6] == '\\' && s_[at_ + 7] == 'u';
      const int low = pair ? Hex4(at_ + 8) : -1;
      if (low < 0xDC00 || low > 0xDFFF) {
        return Fail("a \\u escape of a high surrogate with no low surrogate after it");
      }
      at_ += 12;
      return true;
    }
    at_ += 6;
    return true;
  }

  // The value of the four hex digits at `from`, or -1.
  int Hex4(size_t from) const {
    if (from + 4 > n_) return -1;
    int value = 0;
    for (size_t k = from; k < from + 4; ++k) {
      const uint8_t c = s_[k];
      int digit;
      if (IsDigit(c)) {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return -1;
      }
      value = value * 16 + digit;
    }
    return value;
  }

  bool Literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return Fail("expected a value");
    at_ += word.size();
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number() {
    const size_t start = at_;
    if (s_[at_] == '-') ++at_;
    if (at_ >= n_ || !IsDigit(s_[at_])) {
      at_ = start;
      return Fail("expected a value");
    }
    if (s_[at_] == '0') {
      ++at_;
    } else {
      while (at_ < n_ && IsDigit(s_[at_])) ++at_;
    }
    if (at_ < n_ && s_[at_] == '.') {
      ++at_;
      if (at_ >= n_ || !IsDigit(s_[at_])) return Fail("a number with no digit after its '.'");
      while (at_ < n_ && IsDigit(s_[at_])) ++at_;
    }
    bool exponent = false;
    if (at_ < n_ && (s_[at_] == 'e' || s_[at_] == 'E')) {
      exponent = true;
      ++at_;
      if (at_ < n_ && (s_[at_] == '+' || s_[at_] == '-')) ++at_;
      if (at_ >= n_ || !IsDigit(s_[at_])) return Fail("a number with no digit in its exponent");
      while (at_ < n_ && IsDigit(s_[at_])) ++at_;
    }
    // Strict readers (nlohmann's among them) refuse a number beyond the
    // range of a double. Only an exponent or some 309 digits get there.
    if (exponent || at_ - start > 300) {
      const std::string number(text_.substr(start, at_ - start));
      if (!std::isfinite(std::strtod(number.c_str(), nullptr))) {
        at_ = start;
        return Fail("a number too large for a double");
      }
    }
    return true;
  }

  const std::string_view text_;
  const uint8_t* const s_;
  const size_t n_;
  size_t at_ = 0;
  std::string problem_;
};

}  // namespace

absl::Status CheckJsonText(std::string_view text) { return Checker(text).Run(); }

}  // namespace skillstore
