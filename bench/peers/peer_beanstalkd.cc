// peer-beanstalkd: compare.sh's producer and worker for beanstalkd.
//
//   peer-beanstalkd produce --port P --n N   put N tiny skills (pipelined,
//       a window of --window puts in flight), then wait until workers have
//       deleted all N; prints the RESULT line (first put -> last delete).
//   peer-beanstalkd work --port P [--threads T]   reserve a job, parse it
//       with skillstore::RunTask(kParse) exactly as skill-worker does, delete
//       it; forever (compare.sh stops it with SIGTERM). T threads, each with
//       its own connection, as skill-worker --concurrency T runs T tasks.
//
// beanstalkd itself runs with -b DIR -f 0: every put and delete is in its
// binlog and fsynced before the reply, which is the durability skillstore
// gives (beanstalkd stores no result, though: the worker's output is dropped).
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "beanstalk_client.h"
#include "bench_clock.h"
#include "common/task_executor.h"
#include "tiny_skill.h"

namespace sb = skillstore::bench;

namespace {

int Produce(const std::string& host, int port, long n, int window) {
  sb::BeanstalkConnection conn(host, port);
  const double start = sb::NowSeconds();
  long sent = 0, acked = 0;
  while (acked < n) {
    while (sent < n && sent - acked < window) {
      conn.SendPut(/*priority=*/1024, /*ttr_seconds=*/60, sb::TinySkill(sent));
      ++sent;
    }
    conn.ReadPutReply();
    ++acked;
  }
  const double enqueued = sb::NowSeconds();
  std::fprintf(stderr, "peer-beanstalkd: %ld puts acknowledged in %.3f s (%.0f/s)\n", n,
               enqueued - start, n / (enqueued - start));
  // Every job is deleted by a worker after its parse: wait for the count.
  for (;;) {
    const auto stats = conn.Stats();
    const auto it = stats.find("cmd-delete");
    if (it != stats.end() && std::stol(it->second) >= n) break;
    usleep(2000);
  }
  sb::PrintResult("beanstalkd", n, sb::NowSeconds() - start);
  return 0;
}

void WorkOn(const std::string& host, int port) {
  sb::BeanstalkConnection conn(host, port);
  long done = 0, failed = 0;
  for (;;) {
    auto job = conn.Reserve(/*timeout_seconds=*/3600);
    if (!job) continue;
    auto result = skillstore::RunTask(skillstore::TaskKind::kParse, job->body, "SKILL.md");
    if (!result.ok()) ++failed;
    conn.Delete(job->id);
    ++done;
    (void)failed;
  }
}

int Work(const std::string& host, int port, int threads) {
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([&] { WorkOn(host, port); });
  WorkOn(host, port);  // never returns; an error ends the process
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("beanstalkd producer/worker for bench/compare.sh", "peer-beanstalkd");
  app.require_subcommand(1);
  app.fallthrough();  // the shared options may come after the subcommand too
  std::string host = "127.0.0.1";
  int port = 11300;
  long n = 20000;
  int window = 64;
  app.add_option("--host", host)->capture_default_str();
  app.add_option("--port", port)->capture_default_str();
  auto* produce = app.add_subcommand("produce", "put N tiny skills and time until all deleted");
  produce->add_option("--n", n)->capture_default_str();
  produce->add_option("--window", window, "puts in flight (pipelined)")->capture_default_str();
  int threads = 1;
  auto* work = app.add_subcommand("work", "reserve, parse, delete; forever");
  work->add_option("--threads", threads, "jobs run at once, one connection each")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (produce->parsed()) return Produce(host, port, n, window);
    if (work->parsed()) return Work(host, port, threads);
  } catch (const std::exception& e) {
    std::cerr << "peer-beanstalkd: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
