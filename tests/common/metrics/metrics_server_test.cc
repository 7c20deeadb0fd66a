// MetricsServer over real sockets on loopback: scrapes that parse, status
// codes for everything else, bounds (request size, time, connections),
// concurrent scrapes, stalled clients, and shutdown.
#include "common/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "exposition_parser.h"
#include "gtest/gtest.h"
#include "http_client.h"

namespace skillstore::metrics {
namespace {

using testing::HttpGet;
using testing::ParseExposition;
using testing::SendRawRequest;

// A connected socket that sends nothing: a stalled client.
int ConnectIdle(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

MetricsServer::Options At(std::string listen) {
  MetricsServer::Options options;
  options.listen = std::move(listen);
  return options;
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    counter_ = &registry_.AddCounter("demo_scraped_total", "A counter.", {"type"})
                    .WithLabels({"parse"});
    counter_->Increment(41);
  }

  std::unique_ptr<MetricsServer> Start(MetricsServer::Options options = {}) {
    if (options.listen.empty()) options.listen = "127.0.0.1:0";
    auto server = MetricsServer::Start(options, registry_);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  Registry registry_;
  Counter* counter_ = nullptr;
};

TEST_F(MetricsServerTest, ServesTheRegistry) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_EQ(server->address(), absl::StrCat("127.0.0.1:", server->port()));
  counter_->Increment();

  auto response = HttpGet(server->port(), "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(response->headers["content-length"], std::to_string(response->body.size()));
  EXPECT_EQ(response->headers["connection"], "close");
  auto parsed = ParseExposition(response->body);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed->Value("demo_scraped_total", {{"type", "parse"}}), 42);

  // A query string does not change the path.
  response = HttpGet(server->port(), "/metrics?name[]=demo");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
}

TEST_F(MetricsServerTest, HeadHasHeadersOnly) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  auto response = SendRawRequest(server->port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_GT(std::stoi(response->headers["content-length"]), 0);
  EXPECT_EQ(response->body, "");
}

TEST_F(MetricsServerTest, OtherRequestsGetTheRightStatus) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  EXPECT_EQ(HttpGet(port, "/")->status, 404);
  EXPECT_EQ(HttpGet(port, "/metrics/extra")->status, 404);
  EXPECT_EQ(HttpGet(port, "/favicon.ico")->status, 404);
  auto post = SendRawRequest(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->headers["allow"], "GET, HEAD");
  EXPECT_EQ(SendRawRequest(port, "hello\r\n\r\n")->status, 400);
  EXPECT_EQ(SendRawRequest(port, "GET metrics HTTP/1.1\r\n\r\n")->status, 400);
  // Bare LF line ends (nc, hand-typed) are accepted.
  EXPECT_EQ(SendRawRequest(port, "GET /metrics HTTP/1.0\n\n")->status, 200);
}

// A file holding `text`, removed at the end of the test.
class TextFile {
 public:
  explicit TextFile(const std::string& text) {
    std::string pattern = ::testing::TempDir() + "metrics-token-XXXXXX";
    const int fd = mkstemp(pattern.data());
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    path_ = pattern;
  }
  ~TextFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }
  void Rewrite(const std::string& text) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
  }

 private:
  std::string path_;
};

TEST_F(MetricsServerTest, ATokenFileMakesScrapesSendTheToken) {
  TextFile token_file("sks_scrape-token\n");  // the newline `echo` adds is not part of it
  MetricsServer::Options options;
  options.bearer_token_file = token_file.path();
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  auto get = [&](const std::string& headers) {
    return SendRawRequest(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n");
  };

  auto none = get("");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->headers["www-authenticate"], "Bearer");
  EXPECT_EQ(none->body.find("demo_scraped_total"), std::string::npos);
  EXPECT_EQ(get("Authorization: Bearer sks_wrong\r\n")->status, 401);
  EXPECT_EQ(get("Authorization: Bearer sks_scrape-token-and-more\r\n")->status, 401);
  EXPECT_EQ(get("Authorization: Basic c2tzOng=\r\n")->status, 401);
  EXPECT_EQ(get("X-Authorization: Bearer sks_scrape-token\r\n")->status, 401);
  auto head = SendRawRequest(port, "HEAD /metrics HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->status, 401);

  // The header name and the scheme in any case, among other fields.
  auto ok = get("Accept: text/plain\r\nauthorization:   bearer sks_scrape-token  \r\n");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
  auto parsed = ParseExposition(ok->body);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed->Value("demo_scraped_total", {{"type", "parse"}}), 41);
  // Other paths still say where the metrics are, token or not.
  EXPECT_EQ(HttpGet(port, "/")->status, 404);
}

TEST_F(MetricsServerTest, AReloadSwapsTheTokenAndABadFileKeepsTheOldOne) {
  TextFile token_file("sks_first\n");
  MetricsServer::Options options;
  options.bearer_token_file = token_file.path();
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  auto status_with = [&](const std::string& token) {
    auto response = SendRawRequest(
        server->port(), "GET /metrics HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\n\r\n");
    return response.ok() ? response->status : -1;
  };
  EXPECT_EQ(status_with("sks_first"), 200);

  token_file.Rewrite("sks_second\n");
  ASSERT_TRUE(server->ReloadBearerToken().ok());
  EXPECT_EQ(status_with("sks_first"), 401);
  EXPECT_EQ(status_with("sks_second"), 200);

  token_file.Rewrite("two words\n");
  absl::Status bad = server->ReloadBearerToken();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("--metrics-token-file " + token_file.path()), std::string::npos)
      << bad;
  EXPECT_EQ(status_with("sks_second"), 200);  // still in force

  // Without a token file there is nothing to reload, and nothing is asked.
  auto open = Start();
  ASSERT_NE(open, nullptr);
  EXPECT_TRUE(open->ReloadBearerToken().ok());
  EXPECT_EQ(HttpGet(open->port(), "/metrics")->status, 200);
}

TEST_F(MetricsServerTest, AnUnusableTokenFileStopsTheStart) {
  TextFile empty(" \n");
  TextFile spaced("two words\n");
  for (const std::string& path : {empty.path(), spaced.path(), std::string("/nonexistent/t")}) {
    SCOPED_TRACE(path);
    MetricsServer::Options options;
    options.listen = "127.0.0.1:0";
    options.bearer_token_file = path;
    auto server = MetricsServer::Start(options, registry_);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(server.status().message().find("--metrics-token-file " + path), std::string::npos)
        << server.status();
  }
}

TEST_F(MetricsServerTest, OversizedRequestIsRefused) {
  MetricsServer::Options options;
  options.max_request_bytes = 1024;
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  const std::string huge = absl::StrCat("GET /metrics HTTP/1.1\r\nX-Filler: ",
                                        std::string(64 * 1024, 'a'), "\r\n\r\n");
  auto response = SendRawRequest(server->port(), huge);
  // The server answers 431 and closes; a client still sending may see a reset.
  if (response.ok()) {
    EXPECT_EQ(response->status, 431);
  }
  // And it keeps serving.
  EXPECT_EQ(HttpGet(server->port(), "/metrics")->status, 200);
}

TEST_F(MetricsServerTest, ConcurrentScrapes) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        counter_->Increment();
        auto response = HttpGet(server->port(), "/metrics");
        if (response.ok() && response->status == 200 && ParseExposition(response->body).ok()) {
          ++ok;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 200);
  auto parsed = ParseExposition(HttpGet(server->port(), "/metrics")->body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed->Value("demo_scraped_total", {{"type", "parse"}}), 241);
}

TEST_F(MetricsServerTest, StalledClientDoesNotBlockOthersAndTimesOut) {
  MetricsServer::Options options;
  options.io_timeout = absl::Milliseconds(500);
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  const int idle = ConnectIdle(server->port());
  ASSERT_GE(idle, 0);
  // Another client is served while the first one says nothing.
  EXPECT_EQ(HttpGet(server->port(), "/metrics")->status, 200);
  // The stalled one is told 408 and closed after io_timeout.
  std::string reply;
  char buffer[512];
  timeval tv{5, 0};
  setsockopt(idle, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssize_t n;
  while ((n = recv(idle, buffer, sizeof buffer, 0)) > 0) reply.append(buffer, n);
  close(idle);
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 408") << reply;
}

TEST_F(MetricsServerTest, ConnectionLimit) {
  MetricsServer::Options options;
  options.max_connections = 1;
  options.io_timeout = absl::Seconds(30);
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  const int idle = ConnectIdle(server->port());
  ASSERT_GE(idle, 0);
  absl::SleepFor(absl::Milliseconds(200));  // let the acceptor take it
  auto response = HttpGet(server->port(), "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 503);
  close(idle);
  // Once the stalled connection is gone, scrapes work again.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    auto again = HttpGet(server->port(), "/metrics");
    served = again.ok() && again->status == 200;
  }
  EXPECT_TRUE(served);
}

TEST_F(MetricsServerTest, StopInterruptsOpenConnectionsPromptly) {
  MetricsServer::Options options;
  options.io_timeout = absl::Seconds(60);
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(ConnectIdle(port));
  absl::SleepFor(absl::Milliseconds(100));
  const absl::Time start = absl::Now();
  server->Stop();
  server->Stop();  // idempotent
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  for (int fd : idle) close(fd);
  server.reset();
  EXPECT_FALSE(HttpGet(port, "/metrics").ok());  // nothing listens any more
}

TEST_F(MetricsServerTest, BadAddresses) {
  Registry registry;
  auto no_port = MetricsServer::Start(At("127.0.0.1"), registry);
  EXPECT_EQ(no_port.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_port = MetricsServer::Start(At("127.0.0.1:99999"), registry);
  EXPECT_EQ(bad_port.status().code(), absl::StatusCode::kInvalidArgument);
  auto first = Start();
  ASSERT_NE(first, nullptr);
  auto taken = MetricsServer::Start(At(absl::StrCat("127.0.0.1:", first->port())), registry);
  EXPECT_EQ(taken.status().code(), absl::StatusCode::kUnavailable) << taken.status();
}

TEST_F(MetricsServerTest, Ipv6AndWildcardAddresses) {
  auto wildcard = MetricsServer::Start(At(":0"), registry_);
  ASSERT_TRUE(wildcard.ok()) << wildcard.status();
  EXPECT_EQ(HttpGet((*wildcard)->port(), "/metrics")->status, 200);
  auto v6 = MetricsServer::Start(At("[::1]:0"), registry_);
  if (v6.ok()) {  // loopback IPv6 may be disabled in a container
    EXPECT_GT((*v6)->port(), 0);
  }
}

}  // namespace
}  // namespace skillstore::metrics
