// Server reflection (grpc.reflection.v1 and its older name v1alpha) answered
// from the API's descriptors with their comments.
//
// gRPC's reflection plugin describes services from the descriptors compiled
// into the binary, which protoc strips of comments; but the comments of
// skillstore.proto are where the API's rules live (paging, result pieces,
// leases, idempotency). This service answers from a descriptor set made with
// source info (proto/api_descriptors.h) instead, so a client that knows only
// what reflection shows (`grpcurl describe`, a dynamic client) sees them.
// The answers are otherwise the plugin's: a file comes with every file it
// imports, directly or not; an unknown name gets an error_response with
// NOT_FOUND; list_services lists every service the set's files define.

#ifndef SKILLSTORE_SERVER_REFLECTION_SERVICE_H_
#define SKILLSTORE_SERVER_REFLECTION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace skillstore::server {

class ApiDescriptors;  // reflection_service.cc

class ReflectionService {
 public:
  // From a serialized google.protobuf.FileDescriptorSet whose files come
  // after the files they import (as `protoc --include_imports` writes them);
  // an error names the file that does not build.
  static absl::StatusOr<std::unique_ptr<ReflectionService>> Create(
      std::string_view serialized_descriptor_set);
  ~ReflectionService();

  // grpc.reflection.v1.ServerReflection and grpc.reflection.v1alpha's: give
  // both to the server builder. They answer until this object is destroyed.
  std::vector<grpc::Service*> services() const;

 private:
  ReflectionService() = default;

  std::unique_ptr<const ApiDescriptors> descriptors_;
  std::unique_ptr<grpc::Service> v1_;
  std::unique_ptr<grpc::Service> v1alpha_;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_REFLECTION_SERVICE_H_
