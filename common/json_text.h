// Checks that bytes are one JSON text, without building anything from them.
//
// The server stores each result's JSON as sent and hands it back from
// GetResult; skillctl and every other reader then parse it. A worker that
// sends "ok", or half a document, would store something no reader can use,
// so the server checks each result once, on arrival, with this. It is the
// only full pass over a result on the server, so it also checks the UTF-8
// (the field is `bytes` on the wire, see skillstore.proto) and stays close
// to a plain byte scan for the long runs of ASCII inside strings.
#ifndef SKILLSTORE_COMMON_JSON_TEXT_H_
#define SKILLSTORE_COMMON_JSON_TEXT_H_

#include <string_view>

#include "absl/status/status.h"

namespace skillstore {

// Deepest nesting of arrays and objects accepted. Readers of results
// (nlohmann::json in skillctl, most JSON libraries) recurse per level; the
// engine's own documents are under ten levels deep.
inline constexpr int kMaxJsonTextDepth = 512;

// OK when `text` is exactly one JSON value (RFC 8259: an object, array,
// string, number, true, false or null) with optional white space around it,
// in well-formed UTF-8, nested at most kMaxJsonTextDepth deep, with \u
// escapes that pair surrogates correctly and numbers within the range of a
// double (as strict parsers require).
// Otherwise INVALID_ARGUMENT naming the problem and its byte offset, e.g.
// "a string is never closed (offset 17)".
absl::Status CheckJsonText(std::string_view text);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_JSON_TEXT_H_
