// The RPC metrics interceptors on a real gRPC server and channel (loopback),
// with a small SkillStore service: GetTask answers OK or NOT_FOUND, every
// other method is left UNIMPLEMENTED.
#include "common/metrics/grpc_metrics.h"

#include <google/protobuf/wrappers.pb.h>
#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <sstream>

#include "exposition_parser.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::metrics {
namespace {

using testing::ParseExposition;
namespace v1 = ::skillstore::v1;

class OneMethodService final : public v1::SkillStore::Service {
 public:
  grpc::Status GetTask(grpc::ServerContext*, const v1::GetTaskRequest* request,
                       v1::GetTaskResponse*) override {
    if (request->task_id() == "1") return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such task");
  }
};

TEST(GrpcMetricsTest, CountsAndTimesCallsOnBothSides) {
  Registry server_registry;
  Registry client_registry;
  RpcMetrics server_metrics(server_registry, "demo_server");
  RpcMetrics client_metrics(client_registry, "demo_client");

  OneMethodService service;
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(MakeServerMetricsInterceptorFactory(server_metrics));
  builder.experimental().SetInterceptorCreators(std::move(creators));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> client_creators;
  client_creators.push_back(MakeClientMetricsInterceptorFactory(client_metrics));
  auto channel = grpc::experimental::CreateCustomChannelWithInterceptors(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(),
      grpc::ChannelArguments(), std::move(client_creators));
  auto stub = v1::SkillStore::NewStub(channel);

  for (int i = 0; i < 7; ++i) {
    grpc::ClientContext context;
    v1::GetTaskRequest request;
    request.set_task_id(i < 5 ? "1" : "2");
    v1::GetTaskResponse response;
    EXPECT_EQ(stub->GetTask(&context, request, &response).error_code(),
              i < 5 ? grpc::StatusCode::OK : grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    v1::Progress response;
    EXPECT_EQ(stub->GetProgress(&context, v1::GetProgressRequest(), &response).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  server->Shutdown();

  for (auto [registry, prefix] : {std::pair{&server_registry, std::string("demo_server")},
                                  std::pair{&client_registry, std::string("demo_client")}}) {
    auto parsed = ParseExposition(registry->Expose());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    const testing::Labels method = {{"service", "skillstore.v1.SkillStore"},
                                           {"method", "GetTask"}};
    EXPECT_EQ(*parsed->Value(prefix + "_rpc_started_total", method), 7) << prefix;
    auto with_code = [&](const char* code) {
      testing::Labels labels = method;
      labels["code"] = code;
      return labels;
    };
    EXPECT_EQ(*parsed->Value(prefix + "_rpc_handled_total", with_code("OK")), 5) << prefix;
    EXPECT_EQ(*parsed->Value(prefix + "_rpc_handled_total", with_code("NOT_FOUND")), 2) << prefix;
    EXPECT_EQ(*parsed->Value(prefix + "_rpc_duration_seconds_count", with_code("OK")), 5);
    EXPECT_GT(*parsed->Value(prefix + "_rpc_duration_seconds_sum", with_code("OK")), 0);
    EXPECT_EQ(*parsed->Value(prefix + "_rpc_handled_total",
                             {{"service", "skillstore.v1.SkillStore"},
                              {"method", "GetProgress"},
                              {"code", "UNIMPLEMENTED"}}),
              1)
        << prefix;
  }
}

TEST(GrpcMetricsTest, DistinctMethodsAreCapped) {
  Registry registry;
  RpcMetrics metrics(registry, "demo");
  for (size_t i = 0; i < RpcMetrics::kMaxMethods + 50; ++i) {
    const std::string method = "/evil.Service/M" + std::to_string(i);
    metrics.RecordStart(method);
    metrics.RecordEnd(method, grpc::StatusCode::UNIMPLEMENTED, 0.001);
  }
  auto parsed = ParseExposition(registry.Expose());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  size_t series = 0;
  for (const auto& sample : parsed->samples) series += sample.name == "demo_rpc_started_total";
  EXPECT_EQ(series, RpcMetrics::kMaxMethods + 1);
  EXPECT_EQ(*parsed->Value("demo_rpc_started_total", {{"service", "other"}, {"method", "other"}}),
            50);
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
}

// What `emit` logs, as "LEVEL message" lines, with gRPC's and protobuf's
// messages routed to the log.
std::string LoggedBy(const std::function<void()>& emit) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("grpc-logs-test", sink);
  logger->set_pattern("%l %v");
  logger->set_level(spdlog::level::trace);
  const std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  RouteGrpcLogsToSpdlog();
  // gRPC's default, set by its initialization, which this test may run before.
  gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
  emit();
  logger->flush();
  spdlog::set_default_logger(previous);
  return out.str();
}

TEST(GrpcLogsTest, ErrorsStayErrorsButAHandshakeTimeoutIsDebug) {
  const std::string logged = LoggedBy([] {
    gpr_log(__FILE__, __LINE__, GPR_LOG_SEVERITY_ERROR, "%s",
            "TlsChannelSecurityConnector::cancel_check_peer error: UNKNOWN:Handshake timed out");
    gpr_log(__FILE__, __LINE__, GPR_LOG_SEVERITY_ERROR, "%s", "something else broke");
  });
  EXPECT_NE(logged.find("debug grpc: TlsChannelSecurityConnector::cancel_check_peer error: "
                        "UNKNOWN:Handshake timed out"),
            std::string::npos)
      << logged;
  EXPECT_NE(logged.find("error grpc: something else broke"), std::string::npos) << logged;
}

// protobuf's parser says why it refused a client's message on stderr unless
// routed: a JSON log would get a line that is not JSON.
TEST(GrpcLogsTest, ProtobufParseErrorsGoThroughTheLog) {
  const std::string logged = LoggedBy([] {
    google::protobuf::StringValue value;  // field 1, a string: two bytes that are not UTF-8
    EXPECT_FALSE(value.ParseFromString(std::string{'\x0a', '\x02', '\xff', '\xfe'}));
  });
  EXPECT_NE(logged.find("warning protobuf: String field 'google.protobuf.StringValue.value' "
                        "contains invalid UTF-8"),
            std::string::npos)
      << logged;
}

}  // namespace
}  // namespace skillstore::metrics
