// skillstore-loadgen: measures a running skillstore-server.
//
// Three phases against --server, each with --clients concurrent clients:
//   1. Enqueue, one task per call (latency-bound: group commit is what helps)
//   2. Enqueue, --batch tasks per call
//   3. Claim (--claim-batch per call) + SubmitResult on a stream, until the
//      queue is drained
// and prints tasks per second for each. It enqueues real-sized SKILL.md
// content, so use a scratch database. A server with --auth-token-file needs
// an admin token (--token-file or $SKILLSTORE_TOKEN): it enqueues, claims and
// submits; TLS takes the same flags as skillctl.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/client_credentials.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace {

namespace v1 = ::skillstore::v1;
using Clock = std::chrono::steady_clock;

std::string SampleSkill() {
  std::string skill =
      "---\nname: loadgen-skill\ndescription: A synthetic skill for load tests\n---\n"
      "# Loadgen skill\n\n## Instructions\n";
  for (int i = 0; i < 20; ++i) {
    skill += "- Step " + std::to_string(i) + ": read the input and write a short summary.\n";
  }
  return skill;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `body(client_index)` on `clients` threads and returns the wall time.
template <typename Fn>
double RunClients(int clients, Fn body) {
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) threads.emplace_back(body, c);
  for (auto& t : threads) t.join();
  return Seconds(start);
}

bool EnqueuePhase(v1::SkillStore::Stub& stub, int clients, int tasks, int batch,
                  const std::string& content, const char* label) {
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  const double seconds = RunClients(clients, [&](int client) {
    while (!failed) {
      const int first = next.fetch_add(batch);
      if (first >= tasks) return;
      v1::EnqueueRequest request;
      for (int i = first; i < std::min(first + batch, tasks); ++i) {
        v1::TaskSpec* spec = request.add_tasks();
        spec->set_type(v1::TASK_TYPE_PARSE);
        spec->set_skill_path("loadgen/" + std::to_string(i) + "/SKILL.md");
        spec->set_content(content);
      }
      grpc::ClientContext context;
      v1::EnqueueResponse response;
      grpc::Status status = stub.Enqueue(&context, request, &response);
      if (!status.ok()) {
        std::fprintf(stderr, "client %d: Enqueue failed: %s\n", client,
                     status.error_message().c_str());
        failed = true;
      }
    }
  });
  if (failed) return false;
  std::printf("%-34s %8d tasks in %7.2f s = %10.0f tasks/s\n", label, tasks, seconds,
              tasks / seconds);
  return true;
}

bool ClaimSubmitPhase(v1::SkillStore::Stub& stub, int clients, int claim_batch) {
  std::atomic<int64_t> done{0};
  std::atomic<bool> failed{false};
  const double seconds = RunClients(clients, [&](int client) {
    const std::string worker = "loadgen-" + std::to_string(client);
    grpc::ClientContext stream_context;
    auto stream = stub.SubmitResult(&stream_context);
    while (!failed) {
      v1::ClaimTaskRequest request;
      request.set_worker_id(worker);
      request.set_max_tasks(claim_batch);
      request.set_wait_seconds(0);
      grpc::ClientContext context;
      v1::ClaimTaskResponse claim;
      grpc::Status status = stub.ClaimTask(&context, request, &claim);
      if (!status.ok()) {
        std::fprintf(stderr, "%s: ClaimTask failed: %s\n", worker.c_str(),
                     status.error_message().c_str());
        failed = true;
        break;
      }
      if (claim.tasks().empty()) break;  // drained
      for (const auto& task : claim.tasks()) {
        v1::SubmitResultRequest result;
        result.set_task_id(task.task_id());
        result.set_fencing_token(task.lease().fencing_token());
        result.set_worker_id(worker);
        result.set_success(true);
        result.set_result_json("{\"ok\":true}");
        result.mutable_metrics()->set_duration_seconds(0.001);
        stream->Write(result);
      }
      for (int i = 0; i < claim.tasks_size(); ++i) {
        v1::SubmitResultResponse ack;
        if (!stream->Read(&ack) || !ack.accepted()) {
          std::fprintf(stderr, "%s: result not accepted: %s\n", worker.c_str(),
                       ack.message().c_str());
          failed = true;
          break;
        }
        ++done;
      }
    }
    stream->WritesDone();
    stream->Finish();
  });
  if (failed) return false;
  const std::string label =
      "claim(" + std::to_string(claim_batch) + ")+submit, " + std::to_string(clients) + " clients";
  std::printf("%-34s %8lld tasks in %7.2f s = %10.0f tasks/s\n", label.c_str(),
              static_cast<long long>(done.load()), seconds, done.load() / seconds);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:50051";
  int clients = 8;
  int batch1_tasks = 5000;
  int batch_tasks = 100000;
  int batch = 1000;
  int claim_batch = 10;
  CLI::App app{
      "skillstore-loadgen: enqueue/s (batch 1 and batch N) and claim+submit/s against a\n"
      "running skillstore-server. It adds tasks: point it at a scratch database."};
  app.add_option("--server", server, "server address host:port")->capture_default_str();
  app.add_option("--clients", clients, "concurrent clients in every phase")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--batch1-tasks", batch1_tasks, "tasks enqueued one per call")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  app.add_option("--batch-tasks", batch_tasks, "tasks enqueued --batch per call")
      ->check(CLI::Range(0, 100000000))
      ->capture_default_str();
  app.add_option("--batch", batch, "tasks per Enqueue call in phase 2")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--claim-batch", claim_batch, "max_tasks per ClaimTask in phase 3")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  skillstore::client::ClientSecurityFlags security_flags;
  skillstore::client::AddClientSecurityFlags(app, &security_flags);
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<skillstore::client::ClientSecurity> security =
      skillstore::client::LoadClientSecurity(security_flags,
                                             std::getenv(skillstore::client::kTokenEnvVar));
  if (!security.ok()) {
    std::fprintf(stderr, "skillstore-loadgen: %s\n",
                 std::string(security.status().message()).c_str());
    return 2;
  }
  for (const std::string& warning : security->warnings) {
    std::fprintf(stderr, "skillstore-loadgen: warning: %s\n", warning.c_str());
  }
  if (const std::string warning = skillstore::client::PlaintextTokenWarning(server, *security);
      !warning.empty()) {
    std::fprintf(stderr, "skillstore-loadgen: warning: %s\n", warning.c_str());
  }
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  args.SetMaxReceiveMessageSize(-1);
  auto channel = skillstore::client::CreateClientChannel(server, *security, args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    std::fprintf(stderr, "cannot connect to %s\n", server.c_str());
    return 1;
  }
  auto stub = v1::SkillStore::NewStub(channel);
  const std::string content = SampleSkill();
  std::printf("skillstore-loadgen against %s, %d clients, %zu-byte tasks\n", server.c_str(),
              clients, content.size());
  const std::string batch_label = "enqueue, batch " + std::to_string(batch);
  if (!EnqueuePhase(*stub, clients, batch1_tasks, 1, content, "enqueue, batch 1") ||
      !EnqueuePhase(*stub, clients, batch_tasks, batch, content, batch_label.c_str()) ||
      !ClaimSubmitPhase(*stub, clients, claim_batch)) {
    return 1;
  }
  return 0;
}
