// --skills-root containment (issue 7, item 5): a task that names a file by
// skill_path, without content, is read only from inside the worker's root.
// `..`, absolute paths, and symlinks that leave the root - to a file or to a
// directory, directly, through a chain of links, or to a sibling folder whose
// name starts like the root's - are refused; links that stay inside work.
//
// Checked twice: SkillsRoot on its own, and end to end with real
// skillstore-server and skill-worker processes, where a refused path must
// end its task as FAILED on the first attempt (not retried: the path will
// not become safe) with an error naming --skills-root.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "process.h"
#include "skills_root.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::worker {
namespace {

namespace fs = std::filesystem;
namespace v1 = skillstore::v1;
using skillstore::testing::BinaryPath;
using skillstore::testing::ChildProcess;
using skillstore::testing::ServerProcess;
using skillstore::testing::TempDir;

constexpr char kSkill[] = R"(---
name: inside
description: A skill inside the skills root.
---
# Inside

## Steps
1. Run `make test`.
)";

// dir/
//   secret.md                  outside the root
//   root-evil/secret.md        a sibling whose name starts with "root"
//   root/a/SKILL.md            the only real file inside
//   root/inner_link.md   -> root/a/SKILL.md         (stays inside: allowed)
//   root/a_link          -> root/a                  (directory, inside: allowed)
//   root/escape.md       -> ../secret.md            (relative file link out)
//   root/abs_escape.md   -> dir/secret.md           (absolute file link out)
//   root/up              -> dir                     (directory link out)
//   root/chain.md        -> root/hop.md -> dir/secret.md
//   root/sibling         -> ../root-evil            (directory, prefix trick)
//   root/self            -> root                    (loop back inside: allowed)
class SkillsRootTree {
 public:
  SkillsRootTree() {
    root_ = dir_.File("root");
    fs::create_directories(root_ + "/a");
    fs::create_directories(dir_.File("root-evil"));
    std::ofstream(root_ + "/a/SKILL.md") << kSkill;
    std::ofstream(dir_.File("secret.md")) << "outside";
    std::ofstream(dir_.File("root-evil/secret.md")) << "outside";
    fs::create_symlink(root_ + "/a/SKILL.md", root_ + "/inner_link.md");
    fs::create_directory_symlink(root_ + "/a", root_ + "/a_link");
    fs::create_symlink("../secret.md", root_ + "/escape.md");
    fs::create_symlink(dir_.File("secret.md"), root_ + "/abs_escape.md");
    fs::create_directory_symlink(dir_.path(), root_ + "/up");
    fs::create_symlink(dir_.File("secret.md"), root_ + "/hop.md");
    fs::create_symlink(root_ + "/hop.md", root_ + "/chain.md");
    fs::create_directory_symlink("../root-evil", root_ + "/sibling");
    fs::create_directory_symlink(root_, root_ + "/self");
  }

  const std::string& root() const { return root_; }
  std::string File(const std::string& name) const { return dir_.File(name); }
  const std::string& dir() const { return dir_.path(); }

  // Paths a task may name, and the ones that must be refused.
  static std::vector<std::string> Allowed() {
    // Containment is checked on the resolved path: "up/root/..." leaves
    // through a link but names a file inside, which is harmless.
    return {"a/SKILL.md",      "inner_link.md", "a_link/SKILL.md",
            "self/a/SKILL.md", "./a/SKILL.md",  "up/root/a/SKILL.md"};
  }
  std::vector<std::string> Refused() const {
    return {"../secret.md",      "a/../../secret.md", "a/../a/SKILL.md",  File("secret.md"),
            "/etc/passwd",       "escape.md",         "abs_escape.md",    "up/secret.md",
            "chain.md",          "sibling/secret.md", "up"};
  }

 private:
  TempDir dir_;
  std::string root_;
};

TEST(SkillsRootEscapeTest, OnlyPathsResolvingInsideAreRead) {
  SkillsRootTree tree;
  auto root = SkillsRoot::Open(tree.root());
  ASSERT_TRUE(root.ok()) << root.status();
  for (const std::string& path : SkillsRootTree::Allowed()) {
    auto content = root->Read(path, 1 << 20);
    ASSERT_TRUE(content.ok()) << path << ": " << content.status();
    EXPECT_EQ(*content, kSkill) << path;
  }
  for (const std::string& path : tree.Refused()) {
    auto content = root->Read(path, 1 << 20);
    EXPECT_TRUE(absl::IsPermissionDenied(content.status())) << path << ": " << content.status();
    EXPECT_NE(content.status().message().find("skills-root"), absl::string_view::npos)
        << content.status();
  }
  // A NUL byte could cut the path short in a C API: refused as well.
  EXPECT_TRUE(absl::IsPermissionDenied(root->Read(std::string("a/SKILL.md\0x", 12), 1 << 20)
                                           .status()));
}

TEST(SkillsRootEscapeTest, RootGivenThroughASymlinkStillConfines) {
  SkillsRootTree tree;
  fs::create_directory_symlink(tree.root(), tree.File("root-link"));
  auto root = SkillsRoot::Open(tree.File("root-link"));
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->path(), fs::canonical(tree.root()).string());
  EXPECT_TRUE(root->Read("a/SKILL.md", 1 << 20).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(root->Read("escape.md", 1 << 20).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(root->Read("up/secret.md", 1 << 20).status()));
}

// The same paths through real processes: server, worker --skills-root.
TEST(SkillsRootEscapeTest, WorkerFailsEscapingTasksWithoutRetry) {
  SkillsRootTree tree;
  TempDir run;
  auto server = ServerProcess::Start(run.File("skillstore.db"), run.File("server.log"));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SkillStore::NewStub(
      grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));

  std::vector<std::string> paths = SkillsRootTree::Allowed();
  const std::vector<std::string> refused = tree.Refused();
  paths.insert(paths.end(), refused.begin(), refused.end());
  v1::EnqueueRequest request;
  for (const std::string& path : paths) {
    v1::TaskSpec* task = request.add_tasks();
    task->set_type(v1::TASK_TYPE_PARSE);
    task->set_skill_path(path);  // no content: the worker reads the file
    task->set_max_attempts(3);
  }
  v1::EnqueueResponse response;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status status = stub->Enqueue(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(response.task_ids_size(), static_cast<int>(paths.size()));

  auto worker = ChildProcess::Start(
      {BinaryPath("skill-worker"), "--server", (*server)->address(), "--worker-id", "confined",
       "--skills-root", tree.root(), "--concurrency", "2", "--exit-when-idle", "2"},
      run.File("worker.log"));
  ASSERT_TRUE(worker.ok()) << worker.status();
  absl::StatusOr<int> code = (*worker)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << (*worker)->ReadLog();
  EXPECT_EQ(*code, 0) << (*worker)->ReadLog();

  for (int i = 0; i < response.task_ids_size(); ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetTaskRequest get;
    get.set_task_id(response.task_ids(i));
    v1::GetTaskResponse task;
    grpc::Status status = stub->GetTask(&context, get, &task);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const bool allowed = i < static_cast<int>(SkillsRootTree::Allowed().size());
    if (allowed) {
      EXPECT_EQ(task.task().status(), v1::TASK_STATUS_COMPLETED)
          << paths[i] << ": " << task.task().last_error();
    } else {
      EXPECT_EQ(task.task().status(), v1::TASK_STATUS_FAILED) << paths[i];
      EXPECT_EQ(task.task().attempts(), 1) << paths[i] << " was retried";
      EXPECT_NE(task.task().last_error().find("skills-root"), std::string::npos)
          << paths[i] << ": " << task.task().last_error();
    }
  }
}

}  // namespace
}  // namespace skillstore::worker
