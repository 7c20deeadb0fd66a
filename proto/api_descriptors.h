// The API's .proto files as protoc describes them, comments included.
//
// The descriptors that protoc compiles into generated code (what
// DescriptorPool::generated_pool() holds) have no source info: no comments.
// This is a serialized google.protobuf.FileDescriptorSet made by
// `protoc --include_source_info --include_imports` over every file the server
// answers for (skillstore/v1, grpc/health/v1, grpc/reflection/v1 and
// v1alpha), dependencies before the files that import them, so that server
// reflection can hand clients the rules the comments define.

#ifndef SKILLSTORE_PROTO_API_DESCRIPTORS_H_
#define SKILLSTORE_PROTO_API_DESCRIPTORS_H_

#include <string_view>

namespace skillstore::proto {

// The serialized FileDescriptorSet; static storage, never empty.
std::string_view ApiDescriptorSet();

}  // namespace skillstore::proto

#endif  // SKILLSTORE_PROTO_API_DESCRIPTORS_H_
