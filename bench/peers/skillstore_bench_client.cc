// skillstore-bench-client: compare.sh's client for skillstore, the same shape
// as the peers' clients (the workers are real skill-worker processes).
//
//   e2e --n N [--batch B]       one producer enqueues N tiny skills (parse) in
//       batches of B, then waits until GetProgress counts them all finished;
//       prints the RESULT line (first Enqueue -> last result durable).
//   corpus --dir D --repeat R   the same with the SKILL.md files under D
//       (worker scaling with --concurrency).
//   enqueue --n N --batch B     enqueue throughput alone (RESULT line).
//   claim-latency --samples S   ClaimTask(max_tasks=1, wait 0) one after the
//       other; prints p50/p99 in ms (with a big queue: the 1M-queued figure).
//   enqueue-latency --seconds S [--interval-ms I]   one tiny task per Enqueue
//       every I ms for S seconds, beside a load started elsewhere; prints
//       p50/p99/p99.9/max in ms (the commit stalls a load puts on a client).
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench_clock.h"
#include "skillstore/v1/skillstore.grpc.pb.h"
#include "tiny_skill.h"

namespace sb = skillstore::bench;
namespace v1 = skillstore::v1;

namespace {

using Stub = v1::SkillStore::Stub;

v1::Progress Progress(Stub& stub) {
  grpc::ClientContext ctx;
  v1::Progress p;
  const grpc::Status st = stub.GetProgress(&ctx, v1::GetProgressRequest(), &p);
  if (!st.ok()) throw std::runtime_error("GetProgress: " + st.error_message());
  return p;
}

void EnqueueBatch(Stub& stub, const std::vector<std::string>& contents, long first_index,
                  const std::string& label_prefix) {
  v1::EnqueueRequest req;
  for (size_t i = 0; i < contents.size(); ++i) {
    v1::TaskSpec* t = req.add_tasks();
    t->set_type(v1::TASK_TYPE_PARSE);
    t->set_skill_path(label_prefix + std::to_string(first_index + static_cast<long>(i)) +
                      "/SKILL.md");
    t->set_content(contents[i]);
  }
  grpc::ClientContext ctx;
  v1::EnqueueResponse resp;
  const grpc::Status st = stub.Enqueue(&ctx, req, &resp);
  if (!st.ok()) throw std::runtime_error("Enqueue: " + st.error_message());
  if (resp.task_ids_size() != req.tasks_size()) throw std::runtime_error("Enqueue: short reply");
}

// Enqueues `contents(i)` for i in [0, n) in batches; returns seconds taken.
template <typename ContentFn>
double EnqueueAll(Stub& stub, long n, int batch, ContentFn contents) {
  const double start = sb::NowSeconds();
  std::vector<std::string> chunk;
  for (long i = 0; i < n;) {
    chunk.clear();
    const long first = i;
    for (; i < n && static_cast<long>(chunk.size()) < batch; ++i) chunk.push_back(contents(i));
    EnqueueBatch(stub, chunk, first, "bench/skill-");
  }
  return sb::NowSeconds() - start;
}

// Polls until completed + failed reaches `target` (absolute counts).
void WaitFinished(Stub& stub, long target) {
  for (;;) {
    const v1::Progress p = Progress(stub);
    if (p.completed() + p.failed() >= target) return;
    usleep(2000);
  }
}

int EndToEnd(Stub& stub, const std::string& system, long n, int batch,
             const std::vector<std::string>& corpus) {
  const v1::Progress before = Progress(stub);
  const long base = before.completed() + before.failed();
  const double start = sb::NowSeconds();
  const double enqueue_s = EnqueueAll(stub, n, batch, [&](long i) {
    return corpus.empty() ? sb::TinySkill(i) : corpus[static_cast<size_t>(i) % corpus.size()];
  });
  std::fprintf(stderr, "skillstore-bench-client: %ld tasks enqueued in %.3f s (%.0f/s)\n", n,
               enqueue_s, n / enqueue_s);
  WaitFinished(stub, base + n);
  const double seconds = sb::NowSeconds() - start;
  const v1::Progress after = Progress(stub);
  if (after.failed() != before.failed()) {
    std::fprintf(stderr, "skillstore-bench-client: %ld tasks failed\n",
                 static_cast<long>(after.failed() - before.failed()));
  }
  sb::PrintResult(system, n, seconds);
  return 0;
}

std::vector<std::string> LoadCorpus(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename() == "SKILL.md") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> contents;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    contents.push_back(s.str());
  }
  if (contents.empty()) throw std::runtime_error("no SKILL.md under " + dir);
  return contents;
}

// The q-quantile (0..1) of `sorted`, which is sorted and not empty.
double Quantile(const std::vector<double>& sorted, double q) {
  return sorted[static_cast<size_t>(q * static_cast<double>(sorted.size() - 1))];
}

int ClaimLatency(Stub& stub, int samples) {
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(samples));
  for (int i = 0; i < samples; ++i) {
    v1::ClaimTaskRequest req;
    // A new worker id every 500 claims: the server caps the leases one
    // worker may hold (--max-leases-per-worker, 1000 by default).
    req.set_worker_id("bench-claim-latency-" + std::to_string(i / 500));
    req.set_max_tasks(1);
    req.set_wait_seconds(0);
    grpc::ClientContext ctx;
    v1::ClaimTaskResponse resp;
    const double t0 = sb::NowSeconds();
    const grpc::Status st = stub.ClaimTask(&ctx, req, &resp);
    ms.push_back((sb::NowSeconds() - t0) * 1000.0);
    if (!st.ok()) throw std::runtime_error("ClaimTask: " + st.error_message());
    if (resp.tasks_size() != 1) throw std::runtime_error("ClaimTask: queue empty");
  }
  std::sort(ms.begin(), ms.end());
  std::printf("CLAIM samples=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", samples, Quantile(ms, 0.50),
              Quantile(ms, 0.99), ms.back());
  return 0;
}

int EnqueueLatency(Stub& stub, double seconds, int interval_ms) {
  std::vector<double> ms;
  const double end = sb::NowSeconds() + seconds;
  for (long i = 0; sb::NowSeconds() < end; ++i) {
    const double t0 = sb::NowSeconds();
    EnqueueBatch(stub, {sb::TinySkill(i)}, i, "bench/latency-");
    ms.push_back((sb::NowSeconds() - t0) * 1000.0);
    usleep(static_cast<useconds_t>(interval_ms) * 1000);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("ENQUEUE_LATENCY samples=%zu p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n",
              ms.size(), Quantile(ms, 0.50), Quantile(ms, 0.99), Quantile(ms, 0.999), ms.back());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("skillstore client for bench/compare.sh", "skillstore-bench-client");
  app.require_subcommand(1);
  app.fallthrough();  // the shared options may come after the subcommand too
  std::string server = "127.0.0.1:50051";
  long n = 20000;
  int batch = 1000;
  int repeat = 1;
  int samples = 2000;
  double seconds = 5;
  int interval_ms = 5;
  std::string dir;
  std::string system = "skillstore";
  app.add_option("--server", server)->capture_default_str();
  auto* e2e = app.add_subcommand("e2e", "enqueue N tiny skills, time until all finished");
  auto* corpus = app.add_subcommand("corpus", "enqueue a corpus R times, time until finished");
  auto* enqueue = app.add_subcommand("enqueue", "enqueue throughput");
  auto* claim = app.add_subcommand("claim-latency", "ClaimTask latency on the current queue");
  for (auto* sub : {e2e, enqueue}) {
    sub->add_option("--n", n)->capture_default_str();
    sub->add_option("--batch", batch)->capture_default_str()->check(CLI::Range(1, 100000));
  }
  e2e->add_option("--label", system, "system name in the RESULT line")->capture_default_str();
  corpus->add_option("--dir", dir)->required();
  corpus->add_option("--repeat", repeat)->capture_default_str();
  corpus->add_option("--label", system)->capture_default_str();
  claim->add_option("--samples", samples)->capture_default_str();
  auto* enqueue_latency =
      app.add_subcommand("enqueue-latency", "Enqueue latency of one task at a time, for --seconds");
  enqueue_latency->add_option("--seconds", seconds)->capture_default_str();
  enqueue_latency->add_option("--interval-ms", interval_ms)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  auto stub = v1::SkillStore::NewStub(
      grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args));
  try {
    if (e2e->parsed()) return EndToEnd(*stub, system, n, batch, {});
    if (corpus->parsed()) {
      const auto files = LoadCorpus(dir);
      return EndToEnd(*stub, system, static_cast<long>(files.size()) * repeat, 100, files);
    }
    if (enqueue->parsed()) {
      const double s = EnqueueAll(*stub, n, batch, [](long i) { return sb::TinySkill(i); });
      sb::PrintResult("enqueue-batch-" + std::to_string(batch), n, s);
      return 0;
    }
    if (claim->parsed()) return ClaimLatency(*stub, samples);
    if (enqueue_latency->parsed()) return EnqueueLatency(*stub, seconds, interval_ms);
  } catch (const std::exception& e) {
    std::cerr << "skillstore-bench-client: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
