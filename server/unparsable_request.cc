#include "unparsable_request.h"

#include <google/protobuf/descriptor.h>

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

class UnparsableRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit UnparsableRequestInterceptor(std::string request_type)
      : request_type_(std::move(request_type)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
          status.error_message().empty()) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("the request is not a ", request_type_,
                         ": its bytes do not parse (a malformed field, a string field that is "
                         "not UTF-8, or messages nested over 100 deep)")));
      }
    }
    methods->Proceed();
  }

 private:
  const std::string request_type_;
};

class UnparsableRequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  UnparsableRequestInterceptorFactory() {
    // Request types by method path ("/skillstore.v1.SkillStore/GetTask"),
    // from the descriptors reflection serves. Client-streaming methods
    // (SubmitResult) read their own messages.
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            v1::SkillStore::service_full_name());
    for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      if (method->client_streaming()) continue;
      request_types_.emplace(absl::StrCat("/", service->full_name(), "/", method->name()),
                             method->input_type()->full_name());
    }
  }

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (info->method() == nullptr) return nullptr;
    const auto it = request_types_.find(info->method());
    return it == request_types_.end() ? nullptr : new UnparsableRequestInterceptor(it->second);
  }

 private:
  absl::flat_hash_map<std::string, std::string> request_types_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeUnparsableRequestInterceptorFactory() {
  return std::make_unique<UnparsableRequestInterceptorFactory>();
}

}  // namespace skillstore::server
