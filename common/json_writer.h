// A streaming JSON writer for the engine's large outputs.
//
// Building an nlohmann::json tree for every element and then serialising it
// cost more than parsing the skill itself (a node allocation per field);
// decompositions are written straight to a string instead. Output is
// indented with two spaces like nlohmann's dump(2), or compact like dump()
// (JsonLayout). The writer trusts its caller to pair Begin/End calls and to
// put a Key before each object value.
#ifndef SKILLSTORE_COMMON_JSON_WRITER_H_
#define SKILLSTORE_COMMON_JSON_WRITER_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "common/json_layout.h"
#include "nlohmann/json.hpp"

namespace skillstore {

class JsonWriter {
 public:
  explicit JsonWriter(JsonLayout layout = JsonLayout::kIndented) : layout_(layout) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // Keys are string literals, the field names of the engine's schemas: they
  // are written as they are, without the escape scan a value gets (that
  // scan for every key was a tenth of the engine's time on small skills),
  // and since only an array binds here, data can never become a key.
  template <size_t N>
  void Key(const char (&key)[N]) {
    BeforeValue();
    constexpr size_t n = N - 1;
    char* o = Room(n + 4);
    o[0] = '"';
    std::memcpy(o + 1, key, n);
    o[n + 1] = '"';
    o[n + 2] = ':';
    o[n + 3] = ' ';  // kept only when indenting
    size_ += layout_ == JsonLayout::kCompact ? n + 3 : n + 4;
    after_key_ = true;
  }
  void String(std::string_view value);
  void Int(int64_t value);
  void Bool(bool value);
  // Fixed two decimals with trailing zeros removed ("0.9", "0.75").
  void Decimal2(double value);
  // An already-built value (small parts such as the front matter).
  void Value(const nlohmann::ordered_json& value);

  // Convenience: Key + value.
  template <size_t N>
  void Field(const char (&key)[N], std::string_view value) { Key(key); String(value); }
  template <size_t N>
  void Field(const char (&key)[N], const char* value) { Key(key); String(value); }
  template <size_t N>
  void Field(const char (&key)[N], int64_t value) { Key(key); Int(value); }
  template <size_t N>
  void Field(const char (&key)[N], bool value) { Key(key); Bool(value); }

  // A run of writes whose bytes depend only on the writer's state when it
  // began (the same keys and values at the same place in the document),
  // kept to be written again as one copy. Every element of a decomposition
  // repeats the same provenance fields: replaying them instead of writing
  // them token by token saves a tenth of a small skill's engine time.
  struct Recording {
    std::string bytes;
    std::string stack_before;  // the open containers when it began
    bool after_key_before = false;
    std::string stack_after;
    bool after_key_after = false;
    bool valid = false;
  };
  // Everything written from StartRecording to FinishRecording is kept in *r.
  void StartRecording(Recording* r) {
    r->valid = false;
    r->stack_before = has_member_;
    r->after_key_before = after_key_;
    recording_start_ = size_;
  }
  void FinishRecording(Recording* r) {
    r->bytes.assign(buffer_.get() + recording_start_, size_ - recording_start_);
    r->stack_after = has_member_;
    r->after_key_after = after_key_;
    r->valid = true;
  }
  // Writes the bytes of `r` and takes the state it ended in, when the writer
  // is now in the state `r` began in (so the same calls would write the same
  // bytes). Otherwise writes nothing and returns false.
  bool Replay(const Recording& r) {
    if (!r.valid || after_key_ != r.after_key_before || has_member_ != r.stack_before) {
      return false;
    }
    Put(r.bytes);
    has_member_ = r.stack_after;
    after_key_ = r.after_key_after;
    return true;
  }

  // The document so far (with room for one more byte, which the engine uses
  // for the final newline of indented output).
  std::string Release() const;
  void Reserve(size_t n);

 private:
  void Open(char c);
  void Close(char c);
  // The separator before a value or key: nothing after a key, else a comma
  // after an earlier member, and the line break when indenting. Inline: it
  // runs for every token.
  void BeforeValue() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (has_member_.empty()) return;
    char& has_member = has_member_.back();
    if (has_member) Put(',');
    has_member = 1;
    if (layout_ == JsonLayout::kIndented) Newline();
  }
  void Newline();  // indented layout only: a line break and the indentation
  void WriteString(std::string_view s);

  // Room for `n` more bytes at the end of the output; the caller writes them
  // and adds them to size_. Every write goes through here: a plain pointer
  // and one capacity test per token, where std::string's append (a call
  // with its own checks per piece) was a fifth of the engine's time on
  // small skills.
  char* Room(size_t n) {
    if (capacity_ - size_ < n) Grow(n);
    return buffer_.get() + size_;
  }
  void Put(char c) { *Room(1) = c; ++size_; }
  void Put(std::string_view s) {
    std::memcpy(Room(s.size()), s.data(), s.size());
    size_ += s.size();
  }
  void Grow(size_t n);

  std::unique_ptr<char[]> buffer_;  // uninitialised beyond size_
  size_t size_ = 0;
  size_t capacity_ = 0;
  // A byte per open container, 1 once it has a member. A string: no
  // allocation for the first 15 levels, and plain byte access.
  std::string has_member_;
  bool after_key_ = false;
  size_t recording_start_ = 0;  // size_ at the last StartRecording
  JsonLayout layout_;
};

// Appends `s` to `out` as a JSON string literal (quotes included). `s` must
// be valid UTF-8 (the engine checks inputs first).
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_JSON_WRITER_H_
