#include "stop_signals.h"

namespace bnlab::cli {

namespace {
std::atomic<bool> stop_flag{false};
std::atomic<int> stop_signal{0};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "a signal handler may only touch lock-free atomics");

void request_stop(int signal) {
  stop_signal.store(signal);
  stop_flag.store(true);
}
}  // namespace

StopOnSignals::StopOnSignals() {
  stop_flag.store(false);
  stop_signal.store(0);
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  // SA_RESETHAND: a second signal takes the default action and ends the process at once.
  // SA_RESTART: system calls in progress (file writes) go on rather than fail with EINTR.
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

StopOnSignals::~StopOnSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

const std::atomic<bool>* StopOnSignals::flag() const { return &stop_flag; }
int StopOnSignals::received() const { return stop_signal.load(); }

}  // namespace bnlab::cli
