// ReadWholeFile over real files: contents byte for byte, and an error that
// names the file, its purpose and the system's reason.
#include "common/read_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace skillstore {
namespace {

class ReadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/skillstore-read-file.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  std::string dir_;
};

TEST_F(ReadFileTest, ReadsEveryByte) {
  // Larger than one read, with NULs and a byte that is not UTF-8.
  std::string contents(200 * 1024, 'x');
  contents[17] = '\0';
  contents[100 * 1024] = '\xff';
  absl::StatusOr<std::string> read = ReadWholeFile(Write("big", contents), "--thing");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, contents);

  absl::StatusOr<std::string> empty = ReadWholeFile(Write("empty", ""), "--thing");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, "");
}

TEST_F(ReadFileTest, ErrorsNameThePurposeThePathAndTheReason) {
  const std::string missing = dir_ + "/missing";
  absl::StatusOr<std::string> read = ReadWholeFile(missing, "--tls-cert");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read.status().message(),
            "--tls-cert " + missing + ": cannot read: No such file or directory");

  // A stream would read a directory as an empty file.
  read = ReadWholeFile(dir_, "auth token file");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().message(), "auth token file " + dir_ + ": cannot read: Is a directory");

  read = ReadWholeFile(missing, "");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().message(), missing + ": cannot read: No such file or directory");
}

TEST_F(ReadFileTest, StopsPastItsBound) {
  const std::string path = Write("five", "12345");
  EXPECT_EQ(*ReadWholeFile(path, "--thing", 5), "12345");
  absl::StatusOr<std::string> read = ReadWholeFile(path, "--thing", 4);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(read.status().message(), "--thing " + path + ": larger than 4 bytes");
  // A file with no end, named by mistake.
  read = ReadWholeFile("/dev/zero", "--tls-ca");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kResourceExhausted) << read.status();
}

}  // namespace
}  // namespace skillstore
