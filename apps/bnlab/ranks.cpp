#include "ranks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

namespace bnlab::cli {
namespace {

std::shared_ptr<Communicator>& joined() {
  static std::shared_ptr<Communicator> ranks;
  return ranks;
}

int env_int(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : 0;
}

}  // namespace

Communicator& run_ranks() {
  if (!joined()) joined() = world();
  return *joined();
}

bool is_lead_rank() { return !joined() || joined()->rank() == 0; }

int end_ranks(int code) {
  if (!joined() || joined()->size() == 1) return code;
  std::fflush(stdout);
  std::fflush(stderr);
  joined()->abort(code);  // [[noreturn]], which a call through the pointer does not tell the compiler
  return code;
}

const char* rank_prefix() {
  static std::string prefix;
  if (is_lead_rank()) return "";
  prefix = fmt::format("(rank {}) ", joined()->rank());
  return prefix.c_str();
}

int threads_per_process() {
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  int local = 0;
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"}) local = std::max(local, env_int(var));
  return std::max(1, cores / std::max(1, local));
}

}  // namespace bnlab::cli
