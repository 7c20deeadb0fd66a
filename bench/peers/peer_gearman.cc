// peer-gearman: compare.sh's producer and worker for gearmand (libgearman).
//
//   peer-gearman produce --port P --n N   submit N tiny skills as background
//       jobs of function "bench_parse", pipelined in chunks of --chunk
//       (gearman_client_add_task_background + gearman_client_run_tasks), then
//       wait until gearmand's admin "status" shows no job left; prints the
//       RESULT line (first submit -> queue empty).
//   peer-gearman work --port P [--threads T]   take a job, parse it with
//       skillstore::RunTask(kParse) exactly as skill-worker does, report it
//       done (WORK_COMPLETE, which removes it from the queue); forever; T
//       threads, each a gearman worker of its own.
//
// gearmand runs with -q libsqlite3: a background job is inserted into its
// SQLite queue before JOB_CREATED is answered, and deleted when done, which
// is gearman's durable mode (it stores no result either).
#include <libgearman/gearman.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench_clock.h"
#include "common/task_executor.h"
#include "tiny_skill.h"

namespace sb = skillstore::bench;

namespace {

constexpr const char* kFunction = "bench_parse";

// Jobs of kFunction still queued or running, from gearmand's text admin
// protocol ("status" -> "FUNCTION\tTOTAL\tRUNNING\tWORKERS" lines, then ".").
long QueuedJobs(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) {
    throw std::runtime_error("gearman: cannot resolve " + host);
  }
  const int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    freeaddrinfo(res);
    if (fd >= 0) close(fd);
    throw std::runtime_error("gearman: cannot connect for status");
  }
  freeaddrinfo(res);
  const char cmd[] = "status\n";
  if (send(fd, cmd, sizeof cmd - 1, MSG_NOSIGNAL) < 0) {
    close(fd);
    throw std::runtime_error("gearman: send status");
  }
  std::string reply;
  char buf[4096];
  while (reply.find("\n.\n") == std::string::npos && reply.rfind(".\n", 0) != 0) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  std::istringstream lines(reply);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(std::string(kFunction) + "\t", 0) == 0) {
      return std::stol(line.substr(std::strlen(kFunction) + 1));
    }
  }
  return 0;
}

int Produce(const std::string& host, int port, long n, int chunk) {
  gearman_client_st* client = gearman_client_create(nullptr);
  if (client == nullptr) throw std::runtime_error("gearman_client_create failed");
  if (gearman_client_add_server(client, host.c_str(), static_cast<in_port_t>(port)) !=
      GEARMAN_SUCCESS) {
    throw std::runtime_error(std::string("gearman: ") + gearman_client_error(client));
  }
  const double start = sb::NowSeconds();
  long submitted = 0;
  while (submitted < n) {
    const long end = std::min(n, submitted + chunk);
    std::vector<std::string> bodies;
    bodies.reserve(static_cast<size_t>(end - submitted));
    for (long i = submitted; i < end; ++i) {
      bodies.push_back(sb::TinySkill(i));
      const std::string unique = "job-" + std::to_string(i);
      gearman_return_t ret;
      gearman_client_add_task_background(client, nullptr, nullptr, kFunction, unique.c_str(),
                                         bodies.back().data(), bodies.back().size(), &ret);
      if (ret != GEARMAN_SUCCESS) {
        throw std::runtime_error(std::string("gearman add task: ") + gearman_client_error(client));
      }
    }
    // Returns once gearmand has answered JOB_CREATED for every task of the
    // chunk, i.e. after each is in its SQLite queue.
    const gearman_return_t ret = gearman_client_run_tasks(client);
    if (ret != GEARMAN_SUCCESS) {
      throw std::runtime_error(std::string("gearman run tasks: ") + gearman_client_error(client));
    }
    gearman_client_task_free_all(client);
    submitted = end;
  }
  const double enqueued = sb::NowSeconds();
  std::fprintf(stderr, "peer-gearman: %ld background jobs created in %.3f s (%.0f/s)\n", n,
               enqueued - start, n / (enqueued - start));
  while (QueuedJobs(host, port) > 0) usleep(2000);
  sb::PrintResult("gearmand", n, sb::NowSeconds() - start);
  gearman_client_free(client);
  return 0;
}

void* ParseJob(gearman_job_st* job, void* /*context*/, size_t* result_size,
               gearman_return_t* ret_ptr) {
  const std::string_view body(static_cast<const char*>(gearman_job_workload(job)),
                              gearman_job_workload_size(job));
  // The result is computed and dropped: background jobs have no result.
  (void)skillstore::RunTask(skillstore::TaskKind::kParse, body, "SKILL.md");
  *result_size = 0;
  *ret_ptr = GEARMAN_SUCCESS;
  return nullptr;
}

void WorkOn(const std::string& host, int port) {
  gearman_worker_st* worker = gearman_worker_create(nullptr);
  if (worker == nullptr) throw std::runtime_error("gearman_worker_create failed");
  if (gearman_worker_add_server(worker, host.c_str(), static_cast<in_port_t>(port)) !=
          GEARMAN_SUCCESS ||
      gearman_worker_add_function(worker, kFunction, 0, ParseJob, nullptr) != GEARMAN_SUCCESS) {
    throw std::runtime_error(std::string("gearman worker: ") + gearman_worker_error(worker));
  }
  for (;;) {
    const gearman_return_t ret = gearman_worker_work(worker);
    if (ret != GEARMAN_SUCCESS && ret != GEARMAN_IO_WAIT && ret != GEARMAN_NO_JOBS) {
      std::cerr << "peer-gearman: worker: " << gearman_worker_error(worker) << "\n";
      usleep(100000);  // gearmand restarting: try again
    }
  }
}

// T threads, each a gearman worker of its own, as skill-worker --concurrency
// T runs T tasks at once.
int Work(const std::string& host, int port, int threads) {
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([&] { WorkOn(host, port); });
  WorkOn(host, port);  // never returns; an error ends the process
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("gearmand producer/worker for bench/compare.sh", "peer-gearman");
  app.require_subcommand(1);
  app.fallthrough();  // the shared options may come after the subcommand too
  std::string host = "127.0.0.1";
  int port = 4730;
  long n = 20000;
  int chunk = 100;
  app.add_option("--host", host)->capture_default_str();
  app.add_option("--port", port)->capture_default_str();
  auto* produce = app.add_subcommand("produce", "submit N background jobs, time until done");
  produce->add_option("--n", n)->capture_default_str();
  produce->add_option("--chunk", chunk, "jobs submitted per pipelined round")
      ->capture_default_str();
  int threads = 1;
  auto* work = app.add_subcommand("work", "take jobs, parse, complete; forever");
  work->add_option("--threads", threads, "jobs run at once, one gearman worker each")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (produce->parsed()) return Produce(host, port, n, chunk);
    if (work->parsed()) return Work(host, port, threads);
  } catch (const std::exception& e) {
    std::cerr << "peer-gearman: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
