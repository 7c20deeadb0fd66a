// UTF-8 well-formedness, shared by the engine (input checks), the worker
// (results and error texts), the server (results arrive as bytes) and the
// JSON log formatter; and the one way text from strangers is shown to people
// (skillctl's output, the server's log).
//
// "Well formed" is RFC 3629 / Table 3-7 of the Unicode standard: no overlong
// forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
#ifndef SKILLSTORE_COMMON_UTF8_H_
#define SKILLSTORE_COMMON_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace skillstore {

// Length (2..4) of the well-formed multi-byte sequence that starts at
// text[i], or 0 when it is not well formed. text[i] must be >= 0x80.
size_t Utf8SequenceLength(std::string_view text, size_t i);

// True when all of `text` is well formed. On failure, when `bad_offset` is
// not null, *bad_offset is the offset of the first byte that is not.
// Runs of ASCII are checked eight bytes at a time: results and skills are
// mostly ASCII, and this check sits on the path of every result.
bool IsValidUtf8(std::string_view text, size_t* bad_offset = nullptr);

// The first offset at or after `i` that does not start eight ASCII bytes:
// runs of ASCII are passed over a word at a time. The byte there may still
// be ASCII (its word holds a byte >= 0x80, or fewer than eight remain).
size_t SkipAsciiWords(std::string_view text, size_t i);

// The longest prefix of `text` of at most `max_bytes` that does not end
// inside a multi-byte sequence: where to cut UTF-8 text short.
size_t Utf8PrefixLength(std::string_view text, size_t max_bytes);

// `text` made safe to show a person (on a terminal, in a log line): control
// characters (C0, DEL, C1) become \xNN and the bidi embeddings, overrides and
// isolates (U+202A..U+202E, U+2066..U+2069) \u{NNNN}, so a hostile value can
// neither break a line, nor send escape sequences, nor reorder what the reader
// sees. Other bytes, UTF-8 included, are kept.
std::string WithControlsEscaped(std::string_view text);

// `text` with every byte that does not start a well-formed sequence replaced
// by U+FFFD, so it can travel in a protobuf `string` field.
std::string ToValidUtf8(std::string_view text);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_UTF8_H_
