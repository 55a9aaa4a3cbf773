//===- ModelCheck.h - Whole models through the JIT, step by step *- C++ -*-===//
//
// The harness of FusionTest and TargetLevelsTest: a .fm model compiled
// through the whole pipeline, every kernel JIT-compiled (fused with hand
// schedules, or unfused with every Func at root, the plainest program
// Halide makes of the algorithm), and its steps run kernel by kernel on
// parameters and data drawn once and shared by both compilations.
//
//===----------------------------------------------------------------------===//
#ifndef FM_TEST_UNIT_CODEGEN_MODELCHECK_H
#define FM_TEST_UNIT_CODEGEN_MODELCHECK_H

#include "TestUtils.h"

#include <map>
#include <memory>
#include <string>

namespace fm::test {

/// One compilation of a model: its module and a JIT-compiled kernel per
/// kernel function.
struct Compiled {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::map<std::string, std::unique_ptr<JitKernel>> kernels;
  int kernelCount = 0;
};

/// Compiles `source` through the passes to kernel functions, fused or not;
/// no kernel is JIT-compiled. Null after a test failure.
std::unique_ptr<Compiled> compileToKernels(const std::string &source,
                                           bool fused);

/// Compiles `source` through the pipeline, fused (hand schedules) or
/// unfused (root schedules), every kernel JIT-compiled for `target`;
/// null after a test failure.
std::unique_ptr<Compiled> compile(const std::string &source, bool fused,
                                  const Halide::Target &target);

/// Parameters, state and step inputs shared by both compilations, keyed
/// by name; drawn on first use from one generator.
struct Inputs {
  std::mt19937 rng{7};
  int batch = 1;
  int classes = 10;
  std::map<std::string, Host> values;

  const Host &get(const std::string &name, mlir::Type type, bool isLabel);
};

/// Runs one step function of `c`, calling its kernels in order. Returns
/// the step's results, then the stored value of every stored parameter
/// (keyed "result <i>" and "store <symbol>").
std::map<std::string, Host> runStep(Compiled &c, const std::string &stepName,
                                    Inputs &inputs);

/// ||a - e|| / ||e||, with an absolute floor for tensors that are all but
/// zero (a gradient that vanishes in both).
double relativeError(const Host &a, const Host &e);

/// Compiles `source` fused for `target` and unfused (root, host) and
/// compares every step at `batch`: results, and each stored parameter's
/// change, within 1e-5 norm-wise. Returns the number of fused and unfused
/// kernels.
std::pair<int, int> checkFusedMatchesUnfused(const std::string &source,
                                             int batch, int classes,
                                             const Halide::Target &target);
/// The same for two compiled models.
std::pair<int, int> checkSameSteps(Compiled &fused, Compiled &reference,
                                   int batch, int classes);

/// The text of examples/<name>.
std::string readExample(const std::string &name);
/// Plain SGD: one step's parameter change is the gradient times lr (an
/// Adam step's first change is a sign, which rounding can flip).
std::string withSgd(std::string source);
/// The model in f64: batch norm over a batch of 5 subtracts nearly equal
/// sums, which lifts f32 rounding (different sum orders in the fused and
/// reference kernels) to 1e-5 relative in some gradients.
std::string inF64(std::string source);

} // namespace fm::test

#endif // FM_TEST_UNIT_CODEGEN_MODELCHECK_H
