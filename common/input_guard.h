// First gate for every input: size, encoding and obvious binary data.
//
// Skills travel as bytes; anything that is not UTF-8 text is refused here
// with a message that says what is wrong and where, before any parser sees it.
#ifndef SKILLSTORE_COMMON_INPUT_GUARD_H_
#define SKILLSTORE_COMMON_INPUT_GUARD_H_

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

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_INPUT_GUARD_H_
