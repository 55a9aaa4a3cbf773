//===- Rng.cpp - A small portable random number generator -------*- C++ -*-===//
//
// This file implements fm::Rng. xoshiro256** and splitmix64 are the public
// domain generators of Blackman and Vigna (prng.di.unimi.it); both are a
// handful of integer operations, so their output is identical everywhere.
//
//===----------------------------------------------------------------------===//
#include "runtime/Rng.h"

#include <cmath>
#include <cstdio>
#include <cstring>

using namespace fm;

uint64_t Rng::splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t Rng::deriveSeed(uint64_t seed, uint64_t stream) {
  uint64_t state = seed ^ splitmix64(stream);
  return splitmix64(state);
}

void Rng::reseed(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t &word : s)
    word = splitmix64(state);
  hasSpare = false;
  spare = 0;
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t Rng::next() {
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double Rng::uniform() { return (next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  if (hasSpare) {
    hasSpare = false;
    return spare;
  }
  // 1 - uniform() lies in (0, 1], so the logarithm is finite.
  double u1 = 1.0 - uniform();
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  double theta = 2.0 * M_PI * u2;
  spare = r * std::sin(theta);
  hasSpare = true;
  return r * std::cos(theta);
}

uint64_t Rng::below(uint64_t n) {
  // Reject the top partial copy of [0, n) so every value is equally likely.
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = next();
  } while (x >= limit);
  return x % n;
}

std::string Rng::getState() const {
  uint64_t spareBits;
  std::memcpy(&spareBits, &spare, sizeof spareBits);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%016llx%016llx%016llx%016llx%d%016llx",
                (unsigned long long)s[0], (unsigned long long)s[1],
                (unsigned long long)s[2], (unsigned long long)s[3],
                hasSpare ? 1 : 0, (unsigned long long)spareBits);
  return buf;
}

bool Rng::setState(const std::string &text) {
  if (text.size() != 16 * 5 + 1)
    return false;
  uint64_t words[5];
  for (int i = 0; i < 5; ++i) {
    size_t at = i < 4 ? i * 16 : 65;
    uint64_t v = 0;
    for (size_t j = at; j < at + 16; ++j) {
      char c = text[j];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                     : -1;
      if (d < 0)
        return false;
      v = v << 4 | static_cast<uint64_t>(d);
    }
    words[i] = v;
  }
  if (text[64] != '0' && text[64] != '1')
    return false;
  std::memcpy(s, words, sizeof s);
  hasSpare = text[64] == '1';
  std::memcpy(&spare, &words[4], sizeof spare);
  return true;
}
