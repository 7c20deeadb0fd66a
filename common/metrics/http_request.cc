#include "common/metrics/http_request.h"

#include "absl/strings/str_cat.h"

namespace skillstore::metrics {

size_t RequestHeadLength(std::string_view buffer) {
  for (size_t i = 0; i < buffer.size(); ++i) {
    if (buffer[i] != '\n') continue;
    // "\n\n" or "\n\r\n" ends the head.
    if (i + 1 < buffer.size() && buffer[i + 1] == '\n') return i + 2;
    if (i + 2 < buffer.size() && buffer[i + 1] == '\r' && buffer[i + 2] == '\n') return i + 3;
  }
  return 0;
}

absl::StatusOr<RequestLine> ParseRequestLine(std::string_view head) {
  std::string_view line = head.substr(0, head.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t first_space = line.find(' ');
  const size_t last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return absl::InvalidArgumentError("malformed request line");
  }
  RequestLine request;
  request.method = std::string(line.substr(0, first_space));
  std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
  request.version = std::string(line.substr(last_space + 1));
  if (request.method.empty() || target.empty() || target.front() != '/' ||
      target.find(' ') != std::string_view::npos ||
      request.version.compare(0, 5, "HTTP/") != 0) {
    return absl::InvalidArgumentError(absl::StrCat("malformed request line"));
  }
  for (char c : request.method) {
    if (c < 'A' || c > 'Z') return absl::InvalidArgumentError("malformed request method");
  }
  request.path = std::string(target.substr(0, target.find('?')));
  return request;
}

}  // namespace skillstore::metrics
