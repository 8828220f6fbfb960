#pragma once
// Where human output goes: stdout, or stderr when --json reserves stdout for one JSON document.
#include <fmt/format.h>

#include <cstdio>
#include <string>

namespace bnlab::cli {

// quiet: nothing at all (a data-parallel run's ranks other than 0: apps/bnlab/ranks.h).
struct Console {
  FILE* human = stdout;
  bool json = false;

  explicit Console(bool json_mode = false, bool quiet = false)
      : human(quiet ? nullptr : json_mode ? stderr : stdout), json(json_mode) {}
  template <class... Args>
  void print(fmt::format_string<Args...> f, Args&&... args) const {
    if (!human) return;
    fmt::print(human, f, std::forward<Args>(args)...);
    std::fflush(human);
  }
  bool is_terminal() const;
};

}  // namespace bnlab::cli
