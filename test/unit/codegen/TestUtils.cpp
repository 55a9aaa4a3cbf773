//===- TestUtils.cpp - Helpers for the codegen unit tests -------*- C++ -*-===//
//
// This file implements the helpers of TestUtils.h.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include "codegen/HalideDiagnostics.h"

#include "ir/FmDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

using namespace fm;
using namespace fm::test;

mlir::func::FuncOp ParsedModule::lookup(const std::string &name) {
  return module->lookupSymbol<mlir::func::FuncOp>(name);
}

std::unique_ptr<ParsedModule> fm::test::parseModule(const std::string &source) {
  auto parsed = std::make_unique<ParsedModule>();
  parsed->context.loadDialect<mlir::fm::FmDialect, mlir::func::FuncDialect>();
  parsed->module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &parsed->context);
  if (!parsed->module)
    return nullptr;
  return parsed;
}

std::string fm::test::replaceAll(std::string text, const std::string &from,
                                 const std::string &to) {
  size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

//===----------------------------------------------------------------------===//
// Host
//===----------------------------------------------------------------------===//

Host::Host(std::vector<int64_t> s) : shape(std::move(s)) {
  data.assign(size(), 0.0);
}

int64_t Host::size() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

double Host::at(const std::vector<int64_t> &index) const {
  int64_t flat = 0;
  for (size_t a = 0; a < shape.size(); ++a)
    flat = flat * shape[a] + index[a];
  return data[flat];
}

double Host::atBroadcast(const std::vector<int64_t> &resultShape,
                         const std::vector<int64_t> &index) const {
  size_t lead = resultShape.size() - shape.size();
  std::vector<int64_t> at;
  for (size_t a = 0; a < shape.size(); ++a)
    at.push_back(shape[a] == 1 ? 0 : index[lead + a]);
  return this->at(at);
}

std::vector<std::vector<int64_t>>
fm::test::allIndices(const std::vector<int64_t> &shape) {
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> index(shape.size(), 0);
  int64_t total = 1;
  for (int64_t d : shape)
    total *= d;
  for (int64_t n = 0; n < total; ++n) {
    out.push_back(index);
    for (size_t a = shape.size(); a-- > 0;) {
      if (++index[a] < shape[a])
        break;
      index[a] = 0;
    }
  }
  return out;
}

Host fm::test::randomHost(std::vector<int64_t> shape, std::mt19937 &rng,
                          double lo, double hi) {
  Host h(std::move(shape));
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double &v : h.data)
    v = dist(rng);
  return h;
}

Host fm::test::randomInts(std::vector<int64_t> shape, std::mt19937 &rng,
                          int n) {
  Host h(std::move(shape));
  std::uniform_int_distribution<int> dist(0, n - 1);
  for (double &v : h.data)
    v = dist(rng);
  return h;
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

template <typename T> static void fill(Halide::Buffer<> &b, const Host &h) {
  T *p = static_cast<T *>(b.data());
  for (int64_t i = 0; i < h.size(); ++i)
    p[i] = static_cast<T>(h[i]);
}

template <typename T> static void read(const Halide::Buffer<> &b, Host &h) {
  const T *p = static_cast<const T *>(b.data());
  for (int64_t i = 0; i < h.size(); ++i)
    h[i] = static_cast<double>(p[i]);
}

Halide::Buffer<> fm::test::toBuffer(const Host &h, Halide::Type t) {
  std::vector<int> sizes(h.shape.rbegin(), h.shape.rend());
  Halide::Buffer<> b(t, sizes);
  if (t == Halide::Float(32))
    fill<float>(b, h);
  else if (t == Halide::Float(64))
    fill<double>(b, h);
  else if (t == Halide::Int(32))
    fill<int32_t>(b, h);
  else if (t == Halide::Int(64))
    fill<int64_t>(b, h);
  else if (t == Halide::UInt(8))
    fill<uint8_t>(b, h);
  else
    ADD_FAILURE() << "unsupported buffer type";
  return b;
}

Halide::Buffer<> fm::test::scalarBuffer(float v) {
  Halide::Buffer<> b(Halide::Float(32), std::vector<int>{});
  *static_cast<float *>(b.data()) = v;
  return b;
}

Host fm::test::fromBuffer(const Halide::Buffer<> &b) {
  std::vector<int64_t> shape;
  for (int d = b.dimensions(); d-- > 0;)
    shape.push_back(b.dim(d).extent());
  Host h(shape);
  Halide::Type t = b.type();
  if (t == Halide::Float(32))
    read<float>(b, h);
  else if (t == Halide::Float(64))
    read<double>(b, h);
  else if (t == Halide::Int(32))
    read<int32_t>(b, h);
  else if (t == Halide::Int(64))
    read<int64_t>(b, h);
  else if (t == Halide::UInt(8))
    read<uint8_t>(b, h);
  else
    ADD_FAILURE() << "unsupported buffer type";
  return h;
}

std::vector<Halide::Buffer<>> fm::test::randomArgs(const LoweredKernel &kernel,
                                                   int batch,
                                                   std::mt19937 &rng) {
  std::vector<Halide::Buffer<>> args;
  for (const KernelArg &arg : kernel.args) {
    if (arg.isScalar) {
      args.push_back(scalarBuffer(0.5f));
      continue;
    }
    std::vector<int64_t> shape = arg.shape;
    for (int64_t &d : shape)
      d = d < 0 ? batch : d;
    Host h = arg.type.is_float() ? randomHost(shape, rng)
                                 : randomInts(shape, rng, 10);
    args.push_back(toBuffer(h, arg.type));
  }
  return args;
}

std::vector<Host> fm::test::runKernel(JitKernel &kernel,
                                      const std::vector<Halide::Buffer<>> &args,
                                      int batch) {
  std::vector<Halide::Buffer<>> outputs = kernel.allocateOutputs(batch);
  std::string error;
  if (!kernel.run(args, outputs, error)) {
    ADD_FAILURE() << "kernel failed: " << error;
    return {};
  }
  std::vector<Host> hosts;
  for (const Halide::Buffer<> &b : outputs)
    hosts.push_back(fromBuffer(b));
  return hosts;
}

bool fm::test::allClose(const Host &actual, const Host &expected, double rtol,
                        double atol, std::string &message) {
  if (actual.shape != expected.shape) {
    message = "shape mismatch";
    return false;
  }
  double worst = 0;
  int64_t worstAt = -1;
  for (int64_t i = 0; i < actual.size(); ++i) {
    double err = std::fabs(actual[i] - expected[i]);
    double excess = err - (atol + rtol * std::fabs(expected[i]));
    bool bad = excess > 0 || std::isnan(actual[i]) != std::isnan(expected[i]);
    if (bad && (worstAt < 0 || excess > worst)) {
      worst = excess;
      worstAt = i;
    }
  }
  if (worstAt < 0)
    return true;
  std::ostringstream os;
  os << "element " << worstAt << ": got " << actual[worstAt] << ", expected "
     << expected[worstAt];
  message = os.str();
  return false;
}

void fm::test::expectSameOutputs(JitKernel &actual, JitKernel &expected,
                                 const std::vector<int> &batches,
                                 std::mt19937 &rng, double rtol, double atol,
                                 bool rerun) {
  for (int batch : batches) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    std::vector<Halide::Buffer<>> args =
        randomArgs(actual.getKernel(), batch, rng);
    std::vector<Host> want = runKernel(expected, args, batch);
    std::vector<Host> got = runKernel(actual, args, batch);
    ASSERT_EQ(got.size(), want.size());
    for (size_t o = 0; o < got.size(); ++o) {
      std::string message;
      EXPECT_TRUE(allClose(got[o], want[o], rtol, atol, message))
          << "output " << o << ": " << message;
    }
    if (!rerun)
      continue;
    std::vector<Host> again = runKernel(actual, args, batch);
    for (size_t o = 0; o < got.size(); ++o)
      EXPECT_EQ(got[o].data, again[o].data)
          << "output " << o << " differs between two runs";
  }
}

Halide::Target fm::test::getBenchTarget() {
  if (const char *level = std::getenv("FM_BENCH_LEVEL"))
    for (const TargetVariant &v : getX86Levels())
      if (v.name == level)
        return v.target;
  return getHostTarget();
}

LoweredKernel
fm::test::expectCompilesWithoutWarnings(mlir::func::FuncOp func,
                                        const Halide::Target &target) {
  std::string name = func.getSymName().str();
  LoweredKernel kernel;
  if (mlir::failed(lowerKernel(func, kernel, target))) {
    ADD_FAILURE() << "cannot lower " << name;
    return kernel;
  }
  HalideWarningScope warnings;
  try {
    ScheduleOptions options;
    options.target = target;
    scheduleKernel(kernel, options);
    kernel.getPipeline().compile_to_object(
        ::testing::TempDir() + "fm_compile_check.o", kernel.getArguments(),
        name, target.with_feature(Halide::Target::NoRuntime));
  } catch (const Halide::Error &e) {
    ADD_FAILURE() << name << ": " << e.what();
  }
  for (const std::string &w : warnings.getWarnings())
    ADD_FAILURE() << describeKernelWarning(kernel, name, target.to_string(), w);
  return kernel;
}
