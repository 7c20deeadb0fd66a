// First gate for every input: size, encoding and obvious binary data.
//
// Skills travel as bytes; anything that is not UTF-8 text is refused here
// with a message that says what is wrong and where, before any parser sees it.
#ifndef SKILLSTORE_COMMON_INPUT_GUARD_H_
#define SKILLSTORE_COMMON_INPUT_GUARD_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/engine_limits.h"

namespace skillstore {

// Checks `content` and returns it without a leading UTF-8 byte order mark.
//   ResourceExhausted: larger than limits.max_input_bytes.
//   InvalidArgument:   empty or whitespace only, NUL bytes or other control
//                      characters that mark binary data, invalid UTF-8.
absl::StatusOr<std::string_view> CheckTextInput(std::string_view content,
                                                const EngineLimits& limits);

// Line breaks are CR LF, LF or a lone CR (CommonMark and YAML both say so),
// but the front matter splitter, the line index and the line counting of the
// engine look for LF. A file with lone-CR line ends (old Mac editors, some
// generators) was one long line to them: its front matter went unseen and
// every block past the first line was dropped, by parse and by analyze's
// scan alike. When `content` has a lone CR, this returns a copy in
// `*storage` with each lone CR turned into LF: the same size, so every byte
// offset (and so every span) means the same in both; otherwise `content`
// itself, and `*storage` is untouched.
std::string_view LoneCrAsLineFeed(std::string_view content, std::string* storage);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_INPUT_GUARD_H_
