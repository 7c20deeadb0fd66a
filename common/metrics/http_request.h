// The little of HTTP/1.x that a metrics endpoint needs: find the end of a
// request head and read its request line. Bodies, keep-alive and chunking are
// not supported (the server answers every request with Connection: close).
#ifndef SKILLSTORE_COMMON_METRICS_HTTP_REQUEST_H_
#define SKILLSTORE_COMMON_METRICS_HTTP_REQUEST_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace skillstore::metrics {

struct RequestLine {
  std::string method;  // "GET"
  std::string path;    // "/metrics" (without the query string)
  std::string version; // "HTTP/1.1"
};

// Length of the request head (through the blank line) in `buffer`, or 0 when
// the head is not complete yet. Accepts bare LF line ends, as curl never
// sends but hand-typed requests (nc) do.
size_t RequestHeadLength(std::string_view buffer);

// Parses "METHOD SP target SP HTTP/x.y" from the first line of `head`.
// InvalidArgument for anything else (the server answers 400).
absl::StatusOr<RequestLine> ParseRequestLine(std::string_view head);

// The value of the first header field called `name` (compared without case)
// in `head`, without surrounding blanks; nullopt when there is none.
std::optional<std::string_view> HeaderValue(std::string_view head, std::string_view name);

}  // namespace skillstore::metrics

#endif  // SKILLSTORE_COMMON_METRICS_HTTP_REQUEST_H_
