#pragma once
// A small, fast, seedable generator (xoshiro256**, seeded through splitmix64) whose whole state
// can be saved and restored, so that shuffling, initialisation and dropout are reproducible bit
// for bit on every platform (std:: distributions are implementation-defined; these are not).
#include <array>
#include <cstdint>
#include <vector>

namespace bnlab {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);
  uint64_t next_u64();
  // Uniform double in [0, 1) with 53 random bits.
  double uniform();
  // Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject).
  uint64_t below(uint64_t n);
  // A generator for a sub-stream (e.g. one per layer), independent of this one's future output.
  Rng split(uint64_t stream) const;

  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_{};
};

// Fisher-Yates: a uniformly random permutation of order, drawn from rng.
void shuffle(std::vector<int64_t>& order, Rng& rng);

}  // namespace bnlab
