//===- Targets.cpp - The CPU targets fmc builds for -----------------------===//
//
// This file implements the target names of fmc's --target.
//
//===----------------------------------------------------------------------===//
#include "codegen/Targets.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

using namespace fm;
using Halide::Target;

/// cpuid leaf 7: EDX bit 23 is AVX512-FP16.
static bool hasAvx512Fp16() {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (__get_cpuid_max(0, nullptr) < 7)
    return false;
  __cpuid_count(7, 0, a, b, c, d);
  return d & (1u << 23);
#else
  return false;
#endif
}

/// A target Halide derived from this CPU ("host", "host-cuda"), without
/// the features Halide claims for it that the CPU cannot honour.
static Target withoutUnhonouredFeatures(Target host) {
  if (host.has_feature(Target::AVX512_SapphireRapids) && !hasAvx512Fp16())
    host = host.without_feature(Target::AVX512_SapphireRapids);
  return host;
}

Target fm::getHostTarget() {
  // The CPU does not change: cpuid once.
  static const Target host =
      withoutUnhonouredFeatures(Halide::get_host_target());
  return host;
}

std::vector<TargetVariant> fm::getX86Levels() {
  Target host = getHostTarget();
  auto level = [&](const char *name, std::vector<Target::Feature> features) {
    Target t(host.os, Target::X86, 64);
    for (Target::Feature f : features)
      t.set_feature(f);
    return TargetVariant{name, t};
  };
  std::vector<Target::Feature> avx2 = {Target::SSE41, Target::AVX, Target::AVX2,
                                       Target::FMA, Target::F16C};
  std::vector<Target::Feature> avx512 = avx2;
  avx512.insert(avx512.end(), {Target::AVX512, Target::AVX512_Skylake});
  return {level("avx512", avx512), level("avx2", avx2),
          level("sse41", {Target::SSE41})};
}

bool fm::resolveTargets(const std::string &name,
                        std::vector<TargetVariant> &variants,
                        std::string &error) {
  variants.clear();
  if (name == kPortableTarget) {
    variants = getX86Levels();
    return true;
  }
  if (name == "host" || name.empty()) {
    variants.push_back({"host", getHostTarget()});
    return true;
  }
  if (!Target::validate_target_string(name)) {
    error = "unknown target '" + name +
            "'; expected host, portable or a Halide target string such as "
            "x86-64-linux-avx-avx2-fma-f16c-sse41";
    return false;
  }
  Target target(name);
  if (name.rfind("host", 0) == 0) // host-cuda and the like
    target = withoutUnhonouredFeatures(target);
  variants.push_back({target.to_string(), target});
  return true;
}

std::vector<std::string> fm::getCpuFeatureNames(const Target &target) {
  // The features halide_get_cpu_features (src/runtime/x86_cpu_features.cpp)
  // knows: a CPU lacking one of them cannot run the code.
  static const Target::Feature kCpuFeatures[] = {
      Target::SSE41,
      Target::AVX,
      Target::AVX2,
      Target::FMA,
      Target::F16C,
      Target::AVX512,
      Target::AVX512_KNL,
      Target::AVX512_Skylake,
      Target::AVX512_Cannonlake,
      Target::AVX512_SapphireRapids,
  };
  std::vector<std::string> names;
  if (target.arch != Target::X86)
    return names;
  for (Target::Feature f : kCpuFeatures)
    if (target.has_feature(f))
      names.push_back(Target::feature_to_name(f));
  return names;
}
