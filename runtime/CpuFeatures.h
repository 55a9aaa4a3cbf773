//===- CpuFeatures.h - Which kernel variant this CPU runs -------*- C++ -*-===//
//
// This file declares the check a model library passes before any of its
// code runs: its kernels were compiled for one or more targets
// (fm_model_variant_t), and a CPU lacking a target's features would die
// of SIGILL inside the first kernel. The runtime detects the features
// itself, the way Halide's runtime does (cpuid), because the library's own
// Halide runtime may be compiled with the very instructions in question.
//
// FM_MAX_CPU_ISA=sse41|avx2|avx512 caps the features the runtime admits
// (as oneDNN's ONEDNN_MAX_CPU_ISA does): a portable library then runs its
// AVX2 or SSE4.1 kernels on an AVX-512 machine, and a host library built
// for AVX-512 is refused as it would be on an older CPU.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_CPUFEATURES_H
#define FM_RUNTIME_CPUFEATURES_H

#include "runtime/fm_model_desc.h"

#include <set>
#include <string>

namespace fm {

/// The CPU features this machine has, by Halide's names (sse41, avx, avx2,
/// fma, f16c, avx512, avx512_knl, avx512_skylake, avx512_cannonlake,
/// avx512_sapphirerapids), after FM_MAX_CPU_ISA's cap. Throws fm::Error
/// for an FM_MAX_CPU_ISA it does not know.
std::set<std::string> getUsableCpuFeatures();

/// The features this runtime can detect; others a variant names are
/// assumed present (Halide's runtime does the same).
bool isKnownCpuFeature(const std::string &name);

/// The index of the first variant of `library` whose features `usable`
/// holds, steering the library's dispatch to it. Throws fm::Error
/// (FAILED_PRECONDITION) naming the missing features when there is none.
int selectVariant(const fm_model_desc_t *library, const std::string &model,
                  const std::set<std::string> &usable);

} // namespace fm

#endif // FM_RUNTIME_CPUFEATURES_H
