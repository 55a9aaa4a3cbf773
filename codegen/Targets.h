//===- Targets.h - The CPU targets fmc builds for ---------------*- C++ -*-===//
//
// This file declares the names fmc's --target takes and what each becomes:
// one Halide target (`host`, or any Halide target string) or several
// variants of every kernel picked at run time (`portable`: AVX-512, AVX2
// and an SSE4.1 baseline, the x86-64 levels the tests also compile and
// run every kernel kind for).
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_TARGETS_H
#define FM_CODEGEN_TARGETS_H

#include "Halide.h"

#include <string>
#include <vector>

namespace fm {

/// One target a library's kernels are compiled for.
struct TargetVariant {
  /// "avx512", "avx2", "sse41" for the levels; "host" or the Halide
  /// target string otherwise.
  std::string name;
  Halide::Target target;
};

/// This machine's target: Halide's host target without the features
/// Halide claims for it but the CPU cannot honour. Halide 14 reads AVX-512
/// VNNI + BF16 as Sapphire Rapids and has LLVM generate code for that CPU,
/// AVX512-FP16 included (vmovw for 16-bit moves); AMD Zen 4 and 5 have
/// VNNI and BF16 but no FP16 and die of SIGILL (seen on a Zen 5 EPYC).
Halide::Target getHostTarget();

/// fmc's name of the multi-target build.
inline constexpr const char *kPortableTarget = "portable";

/// The x86-64 levels, best first, for the host's OS:
///   avx512  x86-64-<os>-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41
///           (AVX-512 F/CD/BW/DQ/VL: Xeon since Skylake-SP, AMD Zen 4 on)
///   avx2    x86-64-<os>-avx-avx2-f16c-fma-sse41 (Haswell, Zen 1 on)
///   sse41   x86-64-<os>-sse41, the baseline every x86-64 CPU since 2008
///           runs.
std::vector<TargetVariant> getX86Levels();

/// Resolves fmc's --target: "host" (this machine's Halide target),
/// "portable" (getX86Levels) or a Halide target string. Returns false
/// and sets `error` for a name Halide does not know.
bool resolveTargets(const std::string &name,
                    std::vector<TargetVariant> &variants, std::string &error);

/// The features of `target` that a CPU must have, as Halide names them
/// (sse41, avx, avx2, fma, f16c, avx512, avx512_skylake, ...): the ones
/// Halide's runtime detects, which the model runtime checks at load.
std::vector<std::string> getCpuFeatureNames(const Halide::Target &target);

} // namespace fm

#endif // FM_CODEGEN_TARGETS_H
