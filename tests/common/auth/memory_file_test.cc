// MemoryFile (common/auth/memory_file.h): what the TLS publication of the
// server and the worker rests on.
#include "common/auth/memory_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "files.h"

namespace skillstore::auth {
namespace {

using skillstore::testing::ReadFile;

// What the reloader's atomic publication rests on: gRPC reads one path that
// never changes, sees whole versions, and can tell versions apart by their
// modification time in whole seconds even when they follow each other at once.
TEST(MemoryFileTest, ReplacementsKeepThePathAndAreDatedASecondApart) {
  auto file = MemoryFile::Create("skillstore-test", "first");
  ASSERT_TRUE(file.ok()) << file.status();
  const std::string path = (*file)->path();
  EXPECT_EQ(ReadFile(path), "first");
  struct stat before {};
  ASSERT_EQ(stat(path.c_str(), &before), 0);

  ASSERT_TRUE((*file)->Replace("second, longer than the first").ok());
  ASSERT_TRUE((*file)->Replace("3rd").ok());
  EXPECT_EQ((*file)->path(), path);
  EXPECT_EQ(ReadFile(path), "3rd");
  struct stat after {};
  ASSERT_EQ(stat(path.c_str(), &after), 0);
  EXPECT_GE(after.st_mtime, before.st_mtime + 2);
}

}  // namespace
}  // namespace skillstore::auth
