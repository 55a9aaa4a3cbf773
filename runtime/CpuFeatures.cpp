//===- CpuFeatures.cpp - Which kernel variant this CPU runs --------------===//
//
// This file implements the CPU check of model libraries. The detection
// follows Halide 14's src/runtime/x86_cpu_features.cpp, so the runtime
// admits the variants Halide's dispatch would pick, but for one rule that
// Halide gets wrong (avx512_sapphirerapids, below).
//
//===----------------------------------------------------------------------===//
#include "runtime/CpuFeatures.h"

#include "runtime/Error.h"

#include <cstdlib>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define FM_X86 1
#endif

using namespace fm;

namespace {
/// The FM_MAX_CPU_ISA levels and the features each admits.
struct IsaLevel {
  const char *name;
  std::set<std::string> features;
};
} // namespace

static const std::vector<IsaLevel> &getIsaLevels() {
  static const std::vector<IsaLevel> levels = [] {
    std::set<std::string> sse41 = {"sse41"};
    std::set<std::string> avx2 = {"sse41", "avx", "avx2", "fma", "f16c"};
    std::set<std::string> avx512 = avx2;
    avx512.insert({"avx512", "avx512_knl", "avx512_skylake",
                   "avx512_cannonlake", "avx512_sapphirerapids"});
    return std::vector<IsaLevel>{
        {"sse41", sse41}, {"avx2", avx2}, {"avx512", avx512}};
  }();
  return levels;
}

bool fm::isKnownCpuFeature(const std::string &name) {
  return getIsaLevels().back().features.count(name) > 0;
}

/// What cpuid says, by Halide's rules.
static std::set<std::string> detectCpuFeatures() {
  std::set<std::string> features;
#ifdef FM_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return features;
  bool sse41 = c & (1u << 19), avx = c & (1u << 28), f16c = c & (1u << 29),
       rdrand = c & (1u << 30), fma = c & (1u << 12);
  if (sse41)
    features.insert("sse41");
  if (avx)
    features.insert("avx");
  if (f16c)
    features.insert("f16c");
  if (fma)
    features.insert("fma");
  if (!(sizeof(void *) == 8 && avx && f16c && rdrand))
    return features;
  unsigned b7 = 0, c7 = 0, a7s1 = 0, unused = 0;
  __cpuid_count(7, 0, unused, b7, c7, unused);
  __cpuid_count(7, 1, a7s1, unused, unused, unused);
  auto all = [](unsigned reg, unsigned bits) { return (reg & bits) == bits; };
  constexpr unsigned avx512f = 1u << 16, avx512dq = 1u << 17,
                     avx512ifma = 1u << 21, avx512pf = 1u << 26,
                     avx512er = 1u << 27, avx512cd = 1u << 28,
                     avx512bw = 1u << 30, avx512vl = 1u << 31;
  constexpr unsigned avx512 = avx512f | avx512cd;
  constexpr unsigned skylake = avx512 | avx512vl | avx512bw | avx512dq;
  if (all(b7, 1u << 5))
    features.insert("avx2");
  if (!all(b7, avx512))
    return features;
  features.insert("avx512");
  if (all(b7, avx512 | avx512pf | avx512er))
    features.insert("avx512_knl");
  if (all(b7, skylake))
    features.insert("avx512_skylake");
  if (all(b7, skylake | avx512ifma)) {
    features.insert("avx512_cannonlake");
    // Halide asks for VNNI and BF16 only, but its code for this level is
    // LLVM's Sapphire Rapids code, which uses AVX512-FP16 too (AMD Zen 4
    // and 5 lack it): FP16 is required here as well.
    unsigned d7 = 0;
    __cpuid_count(7, 0, unused, unused, unused, d7);
    if (all(c7, 1u << 11) && all(a7s1, 1u << 5) && all(d7, 1u << 23))
      features.insert("avx512_sapphirerapids");
  }
#endif
  return features;
}

std::set<std::string> fm::getUsableCpuFeatures() {
  std::set<std::string> features = detectCpuFeatures();
  const char *cap = std::getenv("FM_MAX_CPU_ISA");
  if (!cap || !*cap)
    return features;
  for (const IsaLevel &level : getIsaLevels())
    if (level.name == std::string(cap)) {
      std::set<std::string> capped;
      for (const std::string &f : features)
        if (level.features.count(f))
          capped.insert(f);
      return capped;
    }
  throw Error("FM_MAX_CPU_ISA must be sse41, avx2 or avx512 but is '" +
              std::string(cap) + "'");
}

int fm::selectVariant(const fm_model_desc_t *library, const std::string &model,
                      const std::set<std::string> &usable) {
  if (library->num_variants <= 0)
    return -1; // a library that says nothing (hand-written kernels)
  std::string lacks;
  for (int i = 0; i < library->num_variants; ++i) {
    const fm_model_variant_t &variant = library->variants[i];
    std::string missing;
    for (const char *const *f = variant.cpu_features; f && *f; ++f)
      if (isKnownCpuFeature(*f) && !usable.count(*f))
        missing += (missing.empty() ? "" : ", ") + std::string(*f);
    if (missing.empty()) {
      if (library->select_variant)
        library->select_variant(i);
      return i;
    }
    lacks = missing; // the baseline's, last
  }
  const char *cap = std::getenv("FM_MAX_CPU_ISA");
  std::string target =
      library->num_variants == 1
          ? library->variants[0].target
          : "targets down to " +
                std::string(
                    library->variants[library->num_variants - 1].target);
  throw Error("model library '" + model + "' was compiled for " + target +
                  " but this CPU " +
                  (cap && *cap
                       ? "(with FM_MAX_CPU_ISA=" + std::string(cap) + ") "
                       : "") +
                  "lacks " + lacks +
                  "; rebuild it on this machine (fmc --target=host) or for "
                  "every x86-64 CPU (fmc --target=portable)",
              FM_STATUS_FAILED_PRECONDITION);
}
