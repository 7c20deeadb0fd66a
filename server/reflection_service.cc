#include "reflection_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "codec.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace skillstore::server {

// The files reflection hands out, each as protoc wrote its
// FileDescriptorProto (with comments), and a pool built from them to look
// names up in. Immutable once built, so every call reads it without a lock.
class ApiDescriptors {
 public:
  static absl::StatusOr<std::unique_ptr<ApiDescriptors>> FromDescriptorSet(
      std::string_view serialized_set) {
    google::protobuf::FileDescriptorSet set;
    if (!set.ParseFromArray(serialized_set.data(), static_cast<int>(serialized_set.size()))) {
      return absl::InvalidArgumentError("the API's descriptor set does not parse");
    }
    auto descriptors = std::unique_ptr<ApiDescriptors>(new ApiDescriptors());
    for (const google::protobuf::FileDescriptorProto& file_proto : set.file()) {
      const google::protobuf::FileDescriptor* file = descriptors->pool_.BuildFile(file_proto);
      if (file == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("the API's descriptor of ", file_proto.name(),
                         " does not build (are its imports before it in the set?)"));
      }
      file_proto.SerializeToString(&descriptors->serialized_files_[file->name()]);
      for (int i = 0; i < file->service_count(); ++i) {
        descriptors->service_names_.push_back(file->service(i)->full_name());
      }
    }
    std::sort(descriptors->service_names_.begin(), descriptors->service_names_.end());
    return descriptors;
  }

  const std::vector<std::string>& service_names() const { return service_names_; }
  const google::protobuf::DescriptorPool& pool() const { return pool_; }

  // The serialized descriptors of `file` and of every file it imports,
  // transitively, each once, `file` first: a client can build `file` from
  // this one answer.
  std::vector<const std::string*> WithImports(const google::protobuf::FileDescriptor& file) const {
    std::vector<const std::string*> out;
    absl::flat_hash_set<const google::protobuf::FileDescriptor*> seen = {&file};
    std::vector<const google::protobuf::FileDescriptor*> pending = {&file};
    while (!pending.empty()) {
      const google::protobuf::FileDescriptor* next = pending.back();
      pending.pop_back();
      out.push_back(&serialized_files_.at(next->name()));  // every pool file has its bytes
      for (int i = 0; i < next->dependency_count(); ++i) {
        if (seen.insert(next->dependency(i)).second) pending.push_back(next->dependency(i));
      }
    }
    return out;
  }

 private:
  ApiDescriptors() = default;

  google::protobuf::DescriptorPool pool_;
  absl::flat_hash_map<std::string, std::string> serialized_files_;
  std::vector<std::string> service_names_;
};

namespace {

// One answer, for either package's messages: v1 and v1alpha have the same
// field names, so one template serves both.
template <typename Request, typename Response>
void Answer(const ApiDescriptors& api, const Request& request, Response& response) {
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  const google::protobuf::DescriptorPool& pool = api.pool();
  const auto error = [&response](grpc::StatusCode code, std::string message) {
    response.mutable_error_response()->set_error_code(code);
    response.mutable_error_response()->set_error_message(std::move(message));
  };
  const auto file_answer = [&](const google::protobuf::FileDescriptor* file, const char* asked_for,
                               const std::string& name) {
    if (file == nullptr) {
      error(grpc::StatusCode::NOT_FOUND,
            absl::StrCat("no ", asked_for, " ", QuotedForMessage(name), " on this server"));
      return;
    }
    auto* files = response.mutable_file_descriptor_response();
    for (const std::string* bytes : api.WithImports(*file))
      files->add_file_descriptor_proto(*bytes);
  };
  const auto message_type = [&](const std::string& name) {
    const google::protobuf::Descriptor* type = pool.FindMessageTypeByName(name);
    if (type == nullptr) {
      error(grpc::StatusCode::NOT_FOUND,
            absl::StrCat("no message type ", QuotedForMessage(name), " on this server"));
    }
    return type;
  };

  switch (request.message_request_case()) {
    case Request::kFileByFilename:
      file_answer(pool.FindFileByName(request.file_by_filename()), "file",
                  request.file_by_filename());
      return;
    case Request::kFileContainingSymbol:
      file_answer(pool.FindFileContainingSymbol(request.file_containing_symbol()), "symbol",
                  request.file_containing_symbol());
      return;
    case Request::kFileContainingExtension: {
      const auto& asked = request.file_containing_extension();
      const google::protobuf::Descriptor* type = message_type(asked.containing_type());
      if (type == nullptr) return;
      const google::protobuf::FieldDescriptor* extension =
          pool.FindExtensionByNumber(type, asked.extension_number());
      file_answer(extension == nullptr ? nullptr : extension->file(), "extension",
                  absl::StrCat(asked.containing_type(), " ", asked.extension_number()));
      return;
    }
    case Request::kAllExtensionNumbersOfType: {
      const google::protobuf::Descriptor* type =
          message_type(request.all_extension_numbers_of_type());
      if (type == nullptr) return;
      std::vector<const google::protobuf::FieldDescriptor*> extensions;
      pool.FindAllExtensions(type, &extensions);
      auto* numbers = response.mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const auto* extension : extensions) numbers->add_extension_number(extension->number());
      return;
    }
    case Request::kListServices:
      for (const std::string& name : api.service_names()) {
        response.mutable_list_services_response()->add_service()->set_name(name);
      }
      return;
    case Request::MESSAGE_REQUEST_NOT_SET:
      break;
  }
  error(grpc::StatusCode::INVALID_ARGUMENT,
        "the request asks nothing: set one of file_by_filename, file_containing_symbol, "
        "file_containing_extension, all_extension_numbers_of_type or list_services");
}

// One reflection stream: each request read is answered before the next read,
// so answers come in the order asked. Deletes itself when gRPC is done.
template <typename Request, typename Response>
class ReflectionReactor final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit ReflectionReactor(const ApiDescriptors& api) : api_(api) { this->StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client has asked everything (or gone)
      this->Finish(grpc::Status::OK);
      return;
    }
    response_.Clear();
    Answer(api_, request_, response_);
    this->StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    this->StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  const ApiDescriptors& api_;
  Request request_;
  Response response_;
};

template <typename GeneratedService, typename Request, typename Response>
class ReflectionCallbackService final : public GeneratedService {
 public:
  explicit ReflectionCallbackService(const ApiDescriptors& api) : api_(api) {}

  grpc::ServerBidiReactor<Request, Response>* ServerReflectionInfo(
      grpc::CallbackServerContext* /*context*/) override {
    return new ReflectionReactor<Request, Response>(api_);
  }

 private:
  const ApiDescriptors& api_;
};

namespace v1 = grpc::reflection::v1;
namespace v1alpha = grpc::reflection::v1alpha;
using V1Service =
    ReflectionCallbackService<v1::ServerReflection::CallbackService, v1::ServerReflectionRequest,
                              v1::ServerReflectionResponse>;
using V1AlphaService =
    ReflectionCallbackService<v1alpha::ServerReflection::CallbackService,
                              v1alpha::ServerReflectionRequest, v1alpha::ServerReflectionResponse>;

}  // namespace

absl::StatusOr<std::unique_ptr<ReflectionService>> ReflectionService::Create(
    std::string_view serialized_descriptor_set) {
  absl::StatusOr<std::unique_ptr<ApiDescriptors>> descriptors =
      ApiDescriptors::FromDescriptorSet(serialized_descriptor_set);
  if (!descriptors.ok()) return descriptors.status();
  auto service = std::unique_ptr<ReflectionService>(new ReflectionService());
  service->descriptors_ = *std::move(descriptors);
  service->v1_ = std::make_unique<V1Service>(*service->descriptors_);
  service->v1alpha_ = std::make_unique<V1AlphaService>(*service->descriptors_);
  return service;
}

ReflectionService::~ReflectionService() = default;

std::vector<grpc::Service*> ReflectionService::services() const {
  return {v1_.get(), v1alpha_.get()};
}

}  // namespace skillstore::server
