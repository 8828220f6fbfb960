// Files that appear whole or not at all.
#include "bnlab/io/atomic_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "bnlab/core/error.h"

namespace bnlab {
namespace {

namespace fs = std::filesystem;

class AtomicFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bnlab_atomic_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string content(const fs::path& p) const {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path dir_;
};

TEST_F(AtomicFiles, ReplacesTheTargetWhole) {
  write_file_atomic(dir_ / "a.json", "old");
  write_file_atomic(dir_ / "a.json", "new content");
  EXPECT_EQ(content(dir_ / "a.json"), "new content");
  EXPECT_EQ(entries(), std::vector<std::string>{"a.json"});
}

TEST_F(AtomicFiles, AFailureBeforeCommitLeavesTheTargetAsItWasAndNoTemporaryFile) {
  write_file_atomic(dir_ / "a.json", "old");
  try {
    AtomicFile f(dir_ / "a.json");
    f.write("half of the new", 15);
    throw std::runtime_error("the writer fails");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(content(dir_ / "a.json"), "old");
  EXPECT_EQ(entries(), std::vector<std::string>{"a.json"});
}

TEST_F(AtomicFiles, AnUnwritableTargetIsAnInputErrorNamingIt) {
  fs::create_directory(dir_ / "taken");
  try {
    write_file_atomic(dir_ / "taken", "x");
    FAIL() << "wrote over a directory";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + (dir_ / "taken").string() + ": Is a directory");
  }
  EXPECT_EQ(entries(), std::vector<std::string>{"taken"});
}

}  // namespace
}  // namespace bnlab
