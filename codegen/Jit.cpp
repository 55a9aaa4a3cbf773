//===- Jit.cpp - Run one fm kernel through Halide's JIT ---------*- C++ -*-===//
//
// This file implements JitKernel on Pipeline::compile_jit and
// Pipeline::realize with a ParamMap, so that one compiled kernel can be
// run with different buffers without touching the ImageParams' state.
//
//===----------------------------------------------------------------------===//
#include "codegen/Jit.h"

#include "codegen/HalideDiagnostics.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <iostream>

using namespace fm;

std::vector<int> fm::getBufferSizes(const std::vector<int64_t> &shape,
                                    int batch) {
  std::vector<int> sizes;
  for (auto it = shape.rbegin(); it != shape.rend(); ++it)
    sizes.push_back(*it < 0 ? batch : static_cast<int>(*it));
  return sizes;
}

std::unique_ptr<JitKernel> JitKernel::create(mlir::func::FuncOp func,
                                             const ScheduleOptions &options,
                                             std::string &error) {
  std::unique_ptr<JitKernel> jit(new JitKernel());
  if (mlir::failed(lowerKernel(func, jit->kernel, options.target))) {
    error = "failed to lower @" + func.getSymName().str();
    return nullptr;
  }
  std::vector<std::string> warnings;
  try {
    HalideWarningScope scheduling;
    scheduleKernel(jit->kernel, options);
    // An autoscheduler's remarks on its own choices are not failures.
    if (options.kind != ScheduleKind::Auto)
      warnings = scheduling.getWarnings();
    HalideWarningScope compiling;
    jit->target = options.target.with_feature(Halide::Target::JIT);
    jit->pipeline = jit->kernel.getPipeline();
    jit->pipeline.compile_jit(jit->target);
    warnings.insert(warnings.end(), compiling.getWarnings().begin(),
                    compiling.getWarnings().end());
  } catch (const Halide::Error &e) {
    error = e.what();
    return nullptr;
  }
  // As in fmc: a kernel Halide warns about is never run.
  for (const std::string &warning : warnings)
    error += (error.empty() ? "" : "\n") +
             describeKernelWarning(jit->kernel, func.getSymName().str(),
                                   options.target.to_string(), warning);
  return error.empty() ? std::move(jit) : nullptr;
}

std::vector<Halide::Buffer<>> JitKernel::allocateOutputs(int batch) const {
  std::vector<Halide::Buffer<>> outputs;
  for (const KernelOutput &out : kernel.outputs)
    outputs.emplace_back(out.type, getBufferSizes(out.shape, batch));
  return outputs;
}

bool JitKernel::run(const std::vector<Halide::Buffer<>> &args,
                    std::vector<Halide::Buffer<>> &outputs,
                    std::string &error) {
  if (args.size() != kernel.args.size() ||
      outputs.size() != kernel.outputs.size()) {
    error = "expected " + std::to_string(kernel.args.size()) +
            " arguments and " + std::to_string(kernel.outputs.size()) +
            " outputs";
    return false;
  }
  try {
    Halide::ParamMap params;
    for (size_t i = 0; i < args.size(); ++i) {
      const KernelArg &arg = kernel.args[i];
      if (arg.isScalar)
        params.set(arg.scalar, *static_cast<const float *>(args[i].data()));
      else
        params.set(arg.image, args[i]);
    }
    Halide::Realization realization(outputs);
    pipeline.realize(realization, target, params);
  } catch (const Halide::Error &e) {
    error = e.what();
    return false;
  }
  return true;
}

std::unique_ptr<JitKernel> fm::jitKernel(mlir::func::FuncOp kernel,
                                         ScheduleKind schedule) {
  std::string error;
  ScheduleOptions options;
  options.kind = schedule;
  std::unique_ptr<JitKernel> jit = JitKernel::create(kernel, options, error);
  if (!jit)
    std::cerr << "jitKernel: " << error << "\n";
  return jit;
}
