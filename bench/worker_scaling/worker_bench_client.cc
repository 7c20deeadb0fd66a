// worker_bench_client: the client side of bench/worker_scaling.sh.
//
//   worker_bench_client enqueue --server ADDR --corpus DIR --count N [--type parse]
//       enqueues N tasks whose content cycles through DIR/*/SKILL.md
//   worker_bench_client wait --server ADDR --count N [--timeout S]
//       waits until N tasks are finished (completed + failed), then prints
//       "finished N tasks (C completed, F failed) in S seconds"
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "CLI/CLI.hpp"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace v1 = skillstore::v1;

namespace {

std::vector<std::string> ReadCorpus(const std::string& dir) {
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::filesystem::path skill = entry.path() / "SKILL.md";
    if (std::filesystem::is_regular_file(skill)) paths.push_back(skill.string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

int Enqueue(v1::SkillStore::Stub& stub, const std::string& corpus, int count,
            const std::string& type) {
  std::vector<std::string> paths = ReadCorpus(corpus);
  if (paths.empty()) {
    std::cerr << "no */SKILL.md under " << corpus << "\n";
    return 1;
  }
  std::vector<std::string> contents;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    contents.push_back(buffer.str());
  }
  v1::TaskType task_type = type == "analyze" ? v1::TASK_TYPE_ANALYZE : v1::TASK_TYPE_PARSE;
  int done = 0;
  while (done < count) {
    v1::EnqueueRequest request;
    const int batch = std::min(200, count - done);
    for (int i = 0; i < batch; ++i) {
      const size_t k = static_cast<size_t>(done + i) % paths.size();
      v1::TaskSpec* task = request.add_tasks();
      task->set_type(task_type);
      task->set_skill_path(paths[k]);
      task->set_content(contents[k]);
    }
    grpc::ClientContext context;
    v1::EnqueueResponse response;
    grpc::Status status = stub.Enqueue(&context, request, &response);
    if (!status.ok()) {
      std::cerr << "Enqueue: " << status.error_message() << "\n";
      return 1;
    }
    done += batch;
  }
  std::cout << "enqueued " << count << " " << type << " tasks from " << paths.size()
            << " skills\n";
  return 0;
}

int Wait(v1::SkillStore::Stub& stub, int count, int timeout_seconds) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext context;
    v1::Progress progress;
    if (stub.GetProgress(&context, v1::GetProgressRequest(), &progress).ok() &&
        progress.completed() + progress.failed() >= count) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::cout << "finished " << count << " tasks (" << progress.completed() << " completed, "
                << progress.failed() << " failed) in " << seconds << " seconds\n";
      return 0;
    }
    // A benchmark's client may poll; 20 ms is far below the run times measured.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cerr << "timed out waiting for " << count << " tasks\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("client side of bench/worker_scaling.sh", "worker_bench_client");
  std::string server = "127.0.0.1:50051";
  std::string corpus;
  std::string type = "parse";
  int count = 2000;
  int timeout = 1800;
  app.require_subcommand(1);
  CLI::App* enqueue = app.add_subcommand("enqueue", "enqueue tasks from a corpus");
  enqueue->add_option("--server", server);
  enqueue->add_option("--corpus", corpus, "folder of */SKILL.md")->required();
  enqueue->add_option("--count", count);
  enqueue->add_option("--type", type)->check(CLI::IsMember({"parse", "analyze"}));
  CLI::App* wait = app.add_subcommand("wait", "wait until --count tasks finished");
  wait->add_option("--server", server);
  wait->add_option("--count", count);
  wait->add_option("--timeout", timeout);
  CLI11_PARSE(app, argc, argv);

  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  args.SetMaxReceiveMessageSize(-1);
  auto stub = v1::SkillStore::NewStub(
      grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args));
  if (enqueue->parsed()) return Enqueue(*stub, corpus, count, type);
  return Wait(*stub, count, timeout);
}
