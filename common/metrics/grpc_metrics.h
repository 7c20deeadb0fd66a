// RPC metrics through gRPC interceptors, for both sides of a call:
//
//   <prefix>_rpc_started_total{service,method}          counter
//   <prefix>_rpc_handled_total{service,method,code}     counter
//   <prefix>_rpc_duration_seconds{service,method,code}  histogram
//
// e.g. skillstore_rpc_handled_total{service="skillstore.v1.SkillStore",
// method="ClaimTask",code="OK"}. The duration is from the start of the call
// to its status (for streams: the stream's whole life). code is the gRPC
// status name (OK, CANCELLED, UNAVAILABLE, ...). A call that ends without a
// status (the peer vanished) counts as CANCELLED.
//
// The interceptors see every method, including ones a client invents, so
// distinct service/method pairs are capped (kMaxMethods); the rest are
// counted under method="other".
//
// Also: RouteGrpcLogsToSpdlog, so gRPC's and protobuf's own messages go
// through the program's log format (a JSON log stays all JSON).
#ifndef SKILLSTORE_COMMON_METRICS_GRPC_METRICS_H_
#define SKILLSTORE_COMMON_METRICS_GRPC_METRICS_H_

#include <grpcpp/support/client_interceptor.h>
#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "common/metrics/registry.h"

namespace skillstore::metrics {

// "OK", "CANCELLED", ... ("UNKNOWN_CODE" for values outside the enum).
std::string_view GrpcCodeName(grpc::StatusCode code);

class RpcMetrics {
 public:
  static constexpr size_t kMaxMethods = 64;

  // Defines the three families with names starting `prefix` ("skillstore",
  // "skill_worker") in `registry`, which must outlive this object.
  RpcMetrics(Registry& registry, std::string_view prefix);

  // `full_method`: gRPC's "/package.Service/Method".
  void RecordStart(std::string_view full_method);
  void RecordEnd(std::string_view full_method, grpc::StatusCode code, double seconds);

 private:
  // The series of one service/method, resolved once.
  struct MethodSeries {
    Counter* started = nullptr;
    std::array<Counter*, 17> handled{};       // by status code
    std::array<Histogram*, 17> duration{};    // by status code
    std::string service;
    std::string method;
  };
  static constexpr size_t kNoCode = ~size_t{0};
  // The series if already resolved (for `code_index` too, unless kNoCode),
  // under a shared lock; nullptr means: resolve under the exclusive lock.
  const MethodSeries* FindShared(std::string_view full_method, size_t code_index);
  MethodSeries& LookupLocked(std::string_view full_method);  // mu_ held exclusively

  Family<Counter>& started_;
  Family<Counter>& handled_;
  Family<Histogram>& duration_;

  // Guards methods_, other_ and the series pointers in them (set once, under
  // the exclusive lock; the series themselves are lock-free).
  std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<MethodSeries>, std::less<>> methods_;
  std::unique_ptr<MethodSeries> other_;  // every method past kMaxMethods
};

// For grpc::ServerBuilder::experimental().SetInterceptorCreators(...).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeServerMetricsInterceptorFactory(RpcMetrics& metrics);

// For grpc::experimental::CreateCustomChannelWithInterceptors(...).
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
MakeClientMetricsInterceptorFactory(RpcMetrics& metrics);

// Sends gRPC's internal log messages (errors by default; GRPC_VERBOSITY
// raises it) to spdlog's default logger, prefixed "grpc: ", and protobuf's
// (what its parser refused) prefixed "protobuf: ". Process-wide.
// Errors that callers already report in their own words (a TLS handshake
// timing out while the server is away) go at debug level.
void RouteGrpcLogsToSpdlog();

}  // namespace skillstore::metrics

#endif  // SKILLSTORE_COMMON_METRICS_GRPC_METRICS_H_
