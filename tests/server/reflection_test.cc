// Server reflection (server/reflection_service.h) over real gRPC, as a
// client that knows nothing but reflection sees it: the services listed, the
// API built from the descriptors it hands out, with the comments of the
// .proto files, under both grpc.reflection.v1 and v1alpha.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "server_test_util.h"

namespace skillstore::server::testing {
namespace {

namespace reflection = grpc::reflection::v1;
using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptorProto;

// Asks `requests` in order on one stream and returns the answers.
template <typename Stub, typename Request, typename Response>
std::vector<Response> Ask(Stub& stub, const std::vector<Request>& requests) {
  auto context = Context();
  auto stream = stub.ServerReflectionInfo(context.get());
  std::vector<Response> answers;
  for (const Request& request : requests) {
    EXPECT_TRUE(stream->Write(request));
    Response answer;
    if (!stream->Read(&answer)) break;
    answers.push_back(answer);
  }
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answers.size(), requests.size());
  return answers;
}

std::vector<reflection::ServerReflectionResponse> Ask(
    TestServer& server, const std::vector<reflection::ServerReflectionRequest>& requests) {
  auto stub = reflection::ServerReflection::NewStub(server.channel());
  return Ask<reflection::ServerReflection::Stub, reflection::ServerReflectionRequest,
             reflection::ServerReflectionResponse>(*stub, requests);
}

reflection::ServerReflectionRequest ForSymbol(const std::string& symbol) {
  reflection::ServerReflectionRequest request;
  request.set_file_containing_symbol(symbol);
  return request;
}

std::vector<std::string> ServiceNames(const reflection::ServerReflectionResponse& answer) {
  std::vector<std::string> names;
  for (const auto& service : answer.list_services_response().service()) {
    names.push_back(service.name());
  }
  return names;
}

// Builds every file of a file_descriptor_response into `pool`, imports first
// (the answer lists the file asked for first, then what it imports).
void BuildInto(DescriptorPool& pool, const reflection::ServerReflectionResponse& answer) {
  ASSERT_TRUE(answer.has_file_descriptor_response()) << answer.DebugString();
  const auto& files = answer.file_descriptor_response().file_descriptor_proto();
  for (int i = files.size() - 1; i >= 0; --i) {
    FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(files[i]));
    if (pool.FindFileByName(file.name()) == nullptr) {
      ASSERT_NE(pool.BuildFile(file), nullptr) << file.name();
    }
  }
}

const std::vector<std::string> kServices = {
    "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection", "skillstore.v1.SkillStore"};

TEST(Reflection, ListsEveryServiceUnderBothNames) {
  TestServer server;
  reflection::ServerReflectionRequest list;
  list.set_list_services("");
  EXPECT_EQ(ServiceNames(Ask(server, {list}).at(0)), kServices);

  auto old_stub = grpc::reflection::v1alpha::ServerReflection::NewStub(server.channel());
  grpc::reflection::v1alpha::ServerReflectionRequest old_list;
  old_list.set_list_services("*");
  const auto old_answers =
      Ask<grpc::reflection::v1alpha::ServerReflection::Stub,
          grpc::reflection::v1alpha::ServerReflectionRequest,
          grpc::reflection::v1alpha::ServerReflectionResponse>(*old_stub, {old_list});
  ASSERT_EQ(old_answers.size(), 1u);
  std::vector<std::string> old_names;
  for (const auto& service : old_answers[0].list_services_response().service()) {
    old_names.push_back(service.name());
  }
  EXPECT_EQ(old_names, kServices);
  EXPECT_EQ(old_answers[0].original_request().list_services(), "*");
}

// A file's definitions without its comments and without the JSON names
// protoc writes out in a descriptor set (they are the defaults; the
// compiled-in descriptors leave them implicit).
void ClearJsonNames(google::protobuf::DescriptorProto& message) {
  for (auto& field : *message.mutable_field()) field.clear_json_name();
  for (auto& nested : *message.mutable_nested_type()) ClearJsonNames(nested);  // map entries
}

std::string Shape(const google::protobuf::FileDescriptor& file) {
  FileDescriptorProto proto;
  file.CopyTo(&proto);
  for (auto& message : *proto.mutable_message_type()) ClearJsonNames(message);
  return proto.DebugString();
}

// What the server compiled in and what reflection describes are the same
// API: every method with the same types and streaming, every message with
// the same fields.
TEST(Reflection, DescribesTheApiTheServerRunsWithItsComments) {
  TestServer server;
  DescriptorPool pool;
  BuildInto(pool, Ask(server, {ForSymbol("skillstore.v1.SkillStore")}).at(0));
  const google::protobuf::FileDescriptor* described =
      pool.FindFileByName("skillstore/v1/skillstore.proto");
  ASSERT_NE(described, nullptr);
  const google::protobuf::FileDescriptor* compiled =
      DescriptorPool::generated_pool()->FindFileByName("skillstore/v1/skillstore.proto");
  ASSERT_NE(compiled, nullptr);
  EXPECT_EQ(Shape(*described), Shape(*compiled));

  // The comments: the ones that define the rules a client must follow.
  google::protobuf::SourceLocation location;
  const google::protobuf::FieldDescriptor* offset =
      pool.FindFieldByName("skillstore.v1.GetResultRequest.result_offset");
  ASSERT_NE(offset, nullptr);
  ASSERT_TRUE(offset->GetSourceLocation(&location));
  EXPECT_NE(location.leading_comments.find("pieces"), std::string::npos)
      << location.leading_comments;
  const google::protobuf::ServiceDescriptor* service =
      pool.FindServiceByName("skillstore.v1.SkillStore");
  ASSERT_NE(service, nullptr);
  int methods_with_comments = 0;
  for (int i = 0; i < service->method_count(); ++i) {
    google::protobuf::SourceLocation method_location;
    if (service->method(i)->GetSourceLocation(&method_location) &&
        !method_location.leading_comments.empty()) {
      ++methods_with_comments;
    }
  }
  // Every method says what it does: a reflection-only client has nothing
  // else to go by.
  EXPECT_EQ(methods_with_comments, service->method_count());
  ASSERT_TRUE(service->GetSourceLocation(&location));
  EXPECT_NE(location.leading_comments.find("authorization: Bearer"), std::string::npos)
      << location.leading_comments;
  EXPECT_FALSE(compiled->FindMessageTypeByName("GetResultRequest")
                   ->FindFieldByName("result_offset")
                   ->GetSourceLocation(&location))
      << "the compiled-in descriptors were expected to have no comments; if they do, this "
         "service is no longer needed";
}

// Every kind of name a client may ask for finds its file: services,
// methods, messages, fields, enums and enum values; files
// by name, the health service's too.
TEST(Reflection, EveryKindOfSymbolFindsItsFile) {
  TestServer server;
  const std::vector<std::string> symbols = {
      "skillstore.v1.SkillStore",       "skillstore.v1.SkillStore.ClaimTask",
      "skillstore.v1.ClaimTaskRequest", "skillstore.v1.ClaimTaskRequest.max_tasks",
      "skillstore.v1.TaskType",         "skillstore.v1.TASK_TYPE_PARSE",
      "skillstore.v1.GetResultResponse"};
  std::vector<reflection::ServerReflectionRequest> requests;
  for (const std::string& symbol : symbols) requests.push_back(ForSymbol(symbol));
  for (const char* file : {"skillstore/v1/skillstore.proto", "grpc/health/v1/health.proto",
                           "grpc/reflection/v1alpha/reflection.proto"}) {
    requests.emplace_back().set_file_by_filename(file);
  }
  const auto answers = Ask(server, requests);
  ASSERT_EQ(answers.size(), requests.size());
  for (size_t i = 0; i < answers.size(); ++i) {
    // In order, each with the question it answers.
    EXPECT_EQ(answers[i].original_request().SerializeAsString(), requests[i].SerializeAsString());
    ASSERT_TRUE(answers[i].has_file_descriptor_response()) << answers[i].DebugString();
    FileDescriptorProto first;
    ASSERT_TRUE(
        first.ParseFromString(answers[i].file_descriptor_response().file_descriptor_proto(0)));
    EXPECT_TRUE(first.has_source_code_info()) << first.name();
    if (requests[i].has_file_by_filename()) {
      EXPECT_EQ(first.name(), requests[i].file_by_filename());
    } else {
      EXPECT_EQ(first.name(), "skillstore/v1/skillstore.proto") << symbols[i];
    }
  }
  DescriptorPool health;
  BuildInto(health, answers[symbols.size() + 1]);
  EXPECT_NE(health.FindMethodByName("grpc.health.v1.Health.Watch"), nullptr);
}

TEST(Reflection, UnknownNamesAndEmptyQuestionsGetAnErrorAndTheStreamGoesOn) {
  TestServer server;
  std::vector<reflection::ServerReflectionRequest> requests;
  requests.push_back(ForSymbol("skillstore.v1.NoSuchMessage"));
  // A hostile name comes back escaped and cut short, never whole.
  requests.push_back(ForSymbol(std::string("bad\n\x1b[31m", 8) + std::string(100000, 'x')));
  requests.emplace_back().set_file_by_filename("google/protobuf/descriptor.proto");
  requests.emplace_back().set_all_extension_numbers_of_type("skillstore.v1.NoSuchMessage");
  auto* extension = requests.emplace_back().mutable_file_containing_extension();
  extension->set_containing_type("skillstore.v1.TaskInfo");
  extension->set_extension_number(100);
  requests.emplace_back();  // asks nothing
  requests.emplace_back().set_all_extension_numbers_of_type("skillstore.v1.TaskInfo");
  requests.emplace_back().set_list_services("");

  const auto answers = Ask(server, requests);
  ASSERT_EQ(answers.size(), requests.size());
  for (size_t i = 0; i + 2 < answers.size(); ++i) {
    ASSERT_TRUE(answers[i].has_error_response()) << i << ": " << answers[i].DebugString();
    const int expected =
        i + 3 == answers.size() ? grpc::StatusCode::INVALID_ARGUMENT : grpc::StatusCode::NOT_FOUND;
    EXPECT_EQ(answers[i].error_response().error_code(), expected) << i;
    EXPECT_FALSE(answers[i].error_response().error_message().empty());
  }
  EXPECT_NE(answers[0].error_response().error_message().find("skillstore.v1.NoSuchMessage"),
            std::string::npos);
  const std::string& hostile = answers[1].error_response().error_message();
  EXPECT_LT(hostile.size(), 200u);
  EXPECT_EQ(hostile.find('\n'), std::string::npos);
  EXPECT_EQ(hostile.find('\x1b'), std::string::npos);
  // A message type with no extensions: its name and an empty list.
  EXPECT_EQ(answers[6].all_extension_numbers_response().base_type_name(), "skillstore.v1.TaskInfo");
  EXPECT_EQ(answers[6].all_extension_numbers_response().extension_number_size(), 0);
  EXPECT_EQ(ServiceNames(answers[7]), kServices);
}

}  // namespace
}  // namespace skillstore::server::testing
