#pragma once
// StopOnSignals: SIGINT and SIGTERM as a request to stop training cleanly.
#include <atomic>
#include <csignal>

namespace bnlab::cli {

// While alive, SIGINT and SIGTERM ask training to stop at the next step boundary (after a
// checkpoint) instead of killing the process; a second signal kills it at once.
class StopOnSignals {
 public:
  StopOnSignals();
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;
  const std::atomic<bool>* flag() const;
  int received() const;  // the signal's number, 0 before one arrives

 private:
  struct sigaction old_int_ {}, old_term_{};
};

}  // namespace bnlab::cli
