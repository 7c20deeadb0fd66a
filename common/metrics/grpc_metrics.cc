#include "common/metrics/grpc_metrics.h"

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>

#include <chrono>
#include <string_view>

#include "common/metrics/log_fields.h"
#include "spdlog/spdlog.h"

namespace skillstore::metrics {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

constexpr std::array<std::string_view, 17> kCodeNames = {
    "OK",           "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS",   "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",  "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",      "DATA_LOSS",
    "UNAUTHENTICATED"};

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One per call: records the start when created and the end at the status.
class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(RpcMetrics& metrics, const char* method, bool server)
      : metrics_(metrics), method_(method != nullptr ? method : ""), server_(server) {
    metrics_.RecordStart(method_);
  }

  ~MetricsInterceptor() override {
    if (!recorded_) metrics_.RecordEnd(method_, grpc::StatusCode::CANCELLED, SecondsSince(start_));
  }

  void Intercept(InterceptorBatchMethods* methods) override {
    if (server_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    if (!server_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      if (const grpc::Status* status = methods->GetRecvStatus()) Record(status->error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    if (recorded_) return;
    recorded_ = true;
    metrics_.RecordEnd(method_, code, SecondsSince(start_));
  }

  RpcMetrics& metrics_;
  const std::string method_;
  const bool server_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool recorded_ = false;
};

class ServerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ServerFactory(RpcMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info->method(), /*server=*/true);
  }

 private:
  RpcMetrics& metrics_;
};

class ClientFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ClientFactory(RpcMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info->method(), /*server=*/false);
  }

 private:
  RpcMetrics& metrics_;
};

// gRPC errors that only repeat what the caller already reports in its own
// words, once, at the right level: a TLS handshake cut short by its deadline
// while the server is away (restarting, unreachable) is logged by gRPC as an
// ERROR on every reconnect attempt, next to the worker's own "cannot claim
// tasks ... retrying" warning. Kept, at debug.
constexpr std::string_view kRepeatedByCallers[] = {
    "Handshake timed out",
};

void LogGrpcMessage(gpr_log_func_args* args) {
  const std::string_view message = args->message != nullptr ? args->message : "";
  spdlog::level::level_enum level = spdlog::level::err;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = spdlog::level::debug;
  if (args->severity == GPR_LOG_SEVERITY_INFO) level = spdlog::level::info;
  for (std::string_view known : kRepeatedByCallers) {
    if (message.find(known) != std::string_view::npos) level = spdlog::level::debug;
  }
  logging::LogFields fields({{"source", "grpc"},
                             {"file", args->file != nullptr ? args->file : ""},
                             {"line", args->line}});
  spdlog::log(level, "grpc: {}", message);
}

// protobuf logs what it refuses while parsing (a string field that is not
// UTF-8, in a message from a client) to stderr, past the log format. Its
// ERROR is a warning here: what it refuses is a peer's bytes, the peer's
// mistake (answered INVALID_ARGUMENT), and any client could otherwise write
// error lines into the server's log at will.
void LogProtobufMessage(google::protobuf::LogLevel severity, const char* file, int line,
                        const std::string& message) {
  spdlog::level::level_enum level = spdlog::level::warn;
  if (severity == google::protobuf::LOGLEVEL_INFO) level = spdlog::level::info;
  if (severity == google::protobuf::LOGLEVEL_FATAL) level = spdlog::level::critical;
  logging::LogFields fields(
      {{"source", "protobuf"}, {"file", file != nullptr ? file : ""}, {"line", line}});
  spdlog::log(level, "protobuf: {}", message);
}

}  // namespace

std::string_view GrpcCodeName(grpc::StatusCode code) {
  const auto index = static_cast<size_t>(code);
  return index < kCodeNames.size() ? kCodeNames[index] : "UNKNOWN_CODE";
}

RpcMetrics::RpcMetrics(Registry& registry, std::string_view prefix)
    : started_(registry.AddCounter(std::string(prefix) + "_rpc_started_total",
                                   "gRPC calls started, by service and method",
                                   {"service", "method"})),
      handled_(registry.AddCounter(std::string(prefix) + "_rpc_handled_total",
                                   "gRPC calls finished, by service, method and status code",
                                   {"service", "method", "code"})),
      duration_(registry.AddHistogram(
          std::string(prefix) + "_rpc_duration_seconds",
          "gRPC call duration from start to status (a stream's whole life), by service, "
          "method and status code",
          {"service", "method", "code"},
          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
           60, 300})) {}

RpcMetrics::MethodSeries& RpcMetrics::LookupLocked(std::string_view full_method) {
  auto it = methods_.find(full_method);
  if (it != methods_.end()) return *it->second;
  if (methods_.size() >= kMaxMethods) {
    if (other_ == nullptr) {
      other_ = std::make_unique<MethodSeries>();
      other_->service = other_->method = "other";
      other_->started = &started_.WithLabels({"other", "other"});
    }
    return *other_;
  }
  auto series = std::make_unique<MethodSeries>();
  std::string_view path = full_method;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  const size_t slash = path.find('/');
  series->service = std::string(slash == std::string_view::npos ? "" : path.substr(0, slash));
  series->method = std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
  series->started = &started_.WithLabels({series->service, series->method});
  MethodSeries& ref = *series;
  methods_.emplace(std::string(full_method), std::move(series));
  return ref;
}

const RpcMetrics::MethodSeries* RpcMetrics::FindShared(std::string_view full_method,
                                                        size_t code_index) {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = methods_.find(full_method);
  const MethodSeries* series = nullptr;
  if (it != methods_.end()) {
    series = it->second.get();
  } else if (methods_.size() >= kMaxMethods && other_ != nullptr) {
    series = other_.get();
  }
  if (series != nullptr && code_index < series->handled.size() &&
      series->handled[code_index] == nullptr) {
    return nullptr;  // that code's series is not resolved yet
  }
  return series;
}

void RpcMetrics::RecordStart(std::string_view full_method) {
  // Fast path: a shared lock, so concurrent calls do not serialise here.
  const MethodSeries* series = FindShared(full_method, kNoCode);
  if (series == nullptr) {
    std::unique_lock<std::shared_mutex> lock(mu_);
    series = &LookupLocked(full_method);
  }
  series->started->Increment();
}

void RpcMetrics::RecordEnd(std::string_view full_method, grpc::StatusCode code, double seconds) {
  const size_t index = static_cast<size_t>(code) < kCodeNames.size()
                           ? static_cast<size_t>(code)
                           : static_cast<size_t>(grpc::StatusCode::UNKNOWN);
  const MethodSeries* series = FindShared(full_method, index);
  if (series == nullptr) {
    std::unique_lock<std::shared_mutex> lock(mu_);
    MethodSeries& found = LookupLocked(full_method);
    if (found.handled[index] == nullptr) {
      const std::string code_name(kCodeNames[index]);
      found.handled[index] = &handled_.WithLabels({found.service, found.method, code_name});
      found.duration[index] = &duration_.WithLabels({found.service, found.method, code_name});
    }
    series = &found;
  }
  series->handled[index]->Increment();
  series->duration[index]->Observe(seconds);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeServerMetricsInterceptorFactory(RpcMetrics& metrics) {
  return std::make_unique<ServerFactory>(metrics);
}

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
MakeClientMetricsInterceptorFactory(RpcMetrics& metrics) {
  return std::make_unique<ClientFactory>(metrics);
}

void RouteGrpcLogsToSpdlog() {
  gpr_set_log_function(&LogGrpcMessage);
  google::protobuf::SetLogHandler(&LogProtobufMessage);
}

}  // namespace skillstore::metrics
