// A minimal HTTP endpoint for Prometheus: GET /metrics answers the text of a
// render function; anything else gets 404. One connection at a time, each
// closed after its answer — a scraper every few seconds is the only client.
// No HTTP library is among the project's dependencies, and this needs none.
#ifndef SKILLSTORE_WORKER_METRICS_SERVER_H_
#define SKILLSTORE_WORKER_METRICS_SERVER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace skillstore::worker {

class MetricsServer {
 public:
  // Listens on "HOST:PORT" (port 0: any free port). Serves `render()`.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen, std::function<std::string()> render);
  ~MetricsServer();  // stops serving

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }

 private:
  MetricsServer(int listen_fd, int wake_read, int wake_write, int port,
                std::function<std::string()> render);
  void Loop();
  void Serve(int fd);

  const int listen_fd_;
  const int wake_read_;   // a byte here ends Loop()
  const int wake_write_;
  const int port_;
  const std::function<std::string()> render_;
  std::thread thread_;
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_METRICS_SERVER_H_
