//===- Rng.h - A small portable random number generator ---------*- C++ -*-===//
//
// This file declares fm::Rng: xoshiro256** seeded through splitmix64, with
// uniform, normal (Box-Muller) and bounded integer draws. The runtime uses
// it instead of <random> because std::normal_distribution and
// std::shuffle differ between standard libraries, and the same seed must
// give the same parameters and the same batch order everywhere.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_RNG_H
#define FM_RUNTIME_RNG_H

#include <cstdint>
#include <string>
#include <vector>

namespace fm {

class Rng {
public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed);
  /// The next 64 random bits.
  uint64_t next();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  /// Standard normal; Box-Muller, keeping the second value for the next call.
  double normal();
  /// Uniform integer in [0, n); n > 0. Unbiased (rejection sampling).
  uint64_t below(uint64_t n);
  /// Fisher-Yates shuffle, identical on every platform.
  template <typename T> void shuffle(std::vector<T> &v) {
    for (size_t i = v.size(); i > 1; --i)
      std::swap(v[i - 1], v[below(i)]);
  }

  /// One round of splitmix64: a good 64-bit mixer, used to derive
  /// independent seeds (e.g. one per epoch) from a base seed.
  static uint64_t splitmix64(uint64_t &state);
  static uint64_t deriveSeed(uint64_t seed, uint64_t stream);

  /// The full state as text (checkpoint metadata) and back.
  std::string getState() const;
  /// Returns false if `text` is not a state written by getState.
  bool setState(const std::string &text);

private:
  uint64_t s[4];
  bool hasSpare = false;
  double spare = 0;
};

} // namespace fm

#endif // FM_RUNTIME_RNG_H
