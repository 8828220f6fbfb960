#include "npm_pack.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "bnlab/data/fetch.h"

extern char** environ;

namespace bnlab {

namespace {
class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

// Runs argv in dir with stdin from /dev/null and stdout and stderr to log; returns the wait status.
int run_in(const std::vector<std::string>& args, const std::filesystem::path& dir,
           const std::filesystem::path& log) {
  SpawnActions actions;
  posix_spawn_file_actions_addchdir_np(actions.get(), dir.c_str());
  posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(actions.get(), 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(actions.get(), 1, 2);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (const int err = posix_spawnp(&pid, argv[0], actions.get(), nullptr, argv.data(), environ))
    throw FetchError(fmt::format("cannot run {}: {}", args[0], std::strerror(err)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      throw FetchError(fmt::format("waiting for {}: {}", args[0], std::strerror(errno)));
  return status;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return fmt::format("wait status {}", status);
}

// The line of npm's output that says what went wrong: the first "npm error" line that is not
// just its code, syscall or errno ("npm error 404 Not Found - GET ..."), else the last line.
std::string npm_error_summary(const std::filesystem::path& log) {
  static const std::string kPrefix = "npm error ";
  std::ifstream in(log);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    last = line;
    if (line.rfind(kPrefix, 0) != 0) continue;
    const std::string message = line.substr(kPrefix.size());
    if (message.rfind("code ", 0) != 0 && message.rfind("syscall ", 0) != 0 &&
        message.rfind("errno ", 0) != 0)
      return message;
  }
  return last;
}

std::filesystem::path find_tarball(const std::filesystem::path& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".tgz") return entry.path();
  throw FetchError(fmt::format("npm pack wrote no tarball in {}", dir.string()));
}
}  // namespace

bool npm_on_path() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && access((std::filesystem::path(dir) / "npm").c_str(), X_OK) == 0)
      return true;
  return false;
}

std::filesystem::path npm_pack(const std::string& package_spec, const std::filesystem::path& dir,
                               const std::string& registry) {
  const std::filesystem::path work = std::filesystem::absolute(dir);
  std::vector<std::string> args = {"npm", "pack", package_spec, "--ignore-scripts",
                                   "--loglevel=error"};
  if (!registry.empty()) args.push_back("--registry=" + registry);
  const std::filesystem::path log = work / "npm-pack.log";
  const int status = run_in(args, work, log);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw FetchError(fmt::format("npm pack {} failed ({}): {}", package_spec,
                                 describe_wait_status(status), npm_error_summary(log)));
  std::filesystem::remove(log);
  return find_tarball(work);
}

}  // namespace bnlab
