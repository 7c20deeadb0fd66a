#include "common/metrics/http_request.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
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

std::optional<std::string_view> HeaderValue(std::string_view head, std::string_view name) {
  size_t start = head.find('\n');  // the fields follow the request line
  while (start != std::string_view::npos && start + 1 < head.size()) {
    const size_t line_start = start + 1;
    const size_t end = head.find('\n', line_start);
    std::string_view line = head.substr(
        line_start, end == std::string_view::npos ? std::string_view::npos : end - line_start);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos &&
        absl::EqualsIgnoreCase(absl::string_view(line.data(), colon),
                               absl::string_view(name.data(), name.size()))) {
      const absl::string_view value = absl::StripAsciiWhitespace(
          absl::string_view(line.data() + colon + 1, line.size() - colon - 1));
      return std::string_view(value.data(), value.size());
    }
    start = end;
  }
  return std::nullopt;
}

}  // namespace skillstore::metrics
