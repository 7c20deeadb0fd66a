// Requests whose bytes do not parse, answered as such.
//
// gRPC 1.51 answers a unary (or server-streaming) request that does not parse
// as its message type with UNIMPLEMENTED and no message: its callback handler
// makes no reactor without a request. That reads as "this server has no such
// method" for a method it does have. This interceptor turns exactly that
// answer, for the SkillStore methods, into INVALID_ARGUMENT naming the
// message type. (SubmitResult parses its stream itself: submit_stream.h.)
// Our handlers never answer UNIMPLEMENTED, so nothing else is rewritten; an
// unknown method keeps its UNIMPLEMENTED.
#ifndef SKILLSTORE_SERVER_UNPARSABLE_REQUEST_H_
#define SKILLSTORE_SERVER_UNPARSABLE_REQUEST_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace skillstore::server {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeUnparsableRequestInterceptorFactory();

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_UNPARSABLE_REQUEST_H_
