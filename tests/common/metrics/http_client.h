// A raw HTTP/1.1 client over a real TCP socket, for tests of /metrics.
#ifndef SKILLSTORE_TESTS_COMMON_METRICS_HTTP_CLIENT_H_
#define SKILLSTORE_TESTS_COMMON_METRICS_HTTP_CLIENT_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace skillstore::metrics::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// Connects to 127.0.0.1:`port`, sends `raw_request` as is, reads until the
// server closes, and parses the response.
absl::StatusOr<HttpResponse> SendRawRequest(int port, std::string_view raw_request,
                                            absl::Duration timeout = absl::Seconds(20));

// GET `path` (Connection: close).
absl::StatusOr<HttpResponse> HttpGet(int port, std::string_view path);

}  // namespace skillstore::metrics::testing

#endif  // SKILLSTORE_TESTS_COMMON_METRICS_HTTP_CLIENT_H_
