//===- EmitLibraryTest.cpp - Model libraries and their descriptor --------===//
//
// Builds libTiny.{a,so} from a hand-written module (one parameter, a train
// step updating it in place, a predict step), then: parses the descriptor,
// dlopens the .so and calls fm_model_Tiny(), runs both kernels through
// their argv pointers on hand-built halide_buffer_t's, checks that a bad
// buffer reaches the installed error handler, and links a C program
// against libTiny.a. Also checks that unsafe in-place stores are refused.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include "codegen/Descriptor.h"
#include "codegen/EmitLibrary.h"
#include "codegen/FmToHalide.h"

#include "HalideRuntime.h"
#include "runtime/fm_model_desc.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <iostream>

using namespace fm;
using namespace fm::test;

// y = x @ w (predict and train); w <- w - lr * sum(y) (train, in place).
static const char *kTiny = R"mlir(
module attributes {fm.model = "Tiny", fm.source = "tiny.fm",
                   fm.train = "{\"batch\": 4, \"epochs\": 1, \"optimizer\": {\"kind\": \"sgd\", \"lr\": 0.5}}"} {
  fm.param @w : tensor<3x2xf32> {kind = "param", init = "glorot_uniform", init_args = [], fan_in = 3, fan_out = 2}
  func.func private @k0(%x: tensor<?x3xf32>, %w: tensor<3x2xf32>) -> (tensor<?x2xf32>, tensor<f32>) attributes {fm.kernel} {
    %y = fm.matmul %x, %w : tensor<?x3xf32>, tensor<3x2xf32> -> tensor<?x2xf32>
    %s = fm.reduce_mean %y {axes = array<i64: 0, 1>} : tensor<?x2xf32> -> tensor<f32>
    return %y, %s : tensor<?x2xf32>, tensor<f32>
  }
  func.func private @k1(%w: tensor<3x2xf32>, %s: tensor<f32>, %lr: tensor<f32> {fm.scalar}) -> tensor<3x2xf32> attributes {fm.kernel} {
    %d = fm.mul %s, %lr : tensor<f32>, tensor<f32> -> tensor<f32>
    %w2 = fm.sub %w, %d : tensor<3x2xf32>, tensor<f32> -> tensor<3x2xf32>
    return %w2 : tensor<3x2xf32>
  }
  func.func @train_step(%x: tensor<?x3xf32> {fm.input = "x"}, %lr: tensor<f32> {fm.scalar = "lr"})
      -> (tensor<f32> {fm.name = "loss", fm.role = "loss"}) attributes {fm.step = "train_step"} {
    %w = fm.load @w : tensor<3x2xf32>
    %y:2 = func.call @k0(%x, %w) : (tensor<?x3xf32>, tensor<3x2xf32>) -> (tensor<?x2xf32>, tensor<f32>)
    %w2 = func.call @k1(%w, %y#1, %lr) : (tensor<3x2xf32>, tensor<f32>, tensor<f32>) -> tensor<3x2xf32>
    fm.store %w2, @w : tensor<3x2xf32>
    return %y#1 : tensor<f32>
  }
  func.func @predict(%x: tensor<?x3xf32> {fm.input = "x"}) -> (tensor<?x2xf32> {fm.name = "y", fm.role = "output"})
      attributes {fm.step = "predict"} {
    %w = fm.load @w : tensor<3x2xf32>
    %y:2 = func.call @k0(%x, %w) : (tensor<?x3xf32>, tensor<3x2xf32>) -> (tensor<?x2xf32>, tensor<f32>)
    return %y#0 : tensor<?x2xf32>
  }
}
)mlir";

/// A dense row-major halide_buffer_t over `data`.
struct RawBuffer {
  halide_buffer_t buffer = {};
  halide_dimension_t dims[4] = {};
  RawBuffer(float *data, std::vector<int> shape) {
    buffer.host = reinterpret_cast<uint8_t *>(data);
    buffer.type = halide_type_t(halide_type_float, 32, 1);
    buffer.dimensions = shape.size();
    buffer.dim = dims;
    int stride = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
      int extent = shape[shape.size() - 1 - d];
      dims[d] = halide_dimension_t(0, extent, stride);
      stride *= extent;
    }
  }
};

static std::string makeTempDir(const std::string &name) {
  llvm::SmallString<128> dir;
  llvm::sys::fs::createUniqueDirectory(name, dir);
  return dir.str().str();
}

/// A shared library with the runtime's headers, written to `dir`.
static EmitOptions sharedLibraryIn(const std::string &dir) {
  EmitOptions options;
  options.outDir = dir;
  options.shared = true;
  options.runtimeIncludeDir = FM_TEST_RUNTIME_DIR;
  return options;
}

static std::string lastError;
static void recordError(void *, const char *msg) { lastError = msg; }

TEST(EmitLibraryTest, TinyModel) {
  auto parsed = parseModule(kTiny);
  ASSERT_TRUE(parsed);
  std::string dir = makeTempDir("fm-tiny");
  EmitOptions options = sharedLibraryIn(dir);
  options.jobs = 2;
  // FM_TEST_KEEP=1 keeps the library and its sources for inspection.
  bool keep = std::getenv("FM_TEST_KEEP") != nullptr;
  options.keepObjects = keep;
  std::string error;
  ASSERT_TRUE(
      mlir::succeeded(emitModelLibrary(*parsed->module, options, error)))
      << error;
  for (const char *file :
       {"libTiny.a", "libTiny.so", "Tiny.h", "fm_model_desc.h"})
    EXPECT_TRUE(llvm::sys::fs::exists(dir + "/" + file)) << file;

  void *lib = dlopen((dir + "/libTiny.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_TRUE(lib) << dlerror();
  auto entry = reinterpret_cast<const fm_model_desc_t *(*)(void)>(
      dlsym(lib, "fm_model_Tiny"));
  ASSERT_TRUE(entry);
  EXPECT_FALSE(dlsym(lib, "halide_set_num_threads")) << "runtime is private";
  const fm_model_desc_t *desc = entry();
  EXPECT_EQ(desc->abi_version, FM_MODEL_DESC_ABI_VERSION);
  ASSERT_EQ(desc->num_kernels, 2);
  EXPECT_STREQ(desc->kernel_names[0], "k0");
  EXPECT_STREQ(desc->kernel_names[1], "k1");

  // The descriptor: w is tensor 0, x tensor 1, and the update writes w.
  auto json = llvm::json::parse(desc->json);
  ASSERT_TRUE(bool(json)) << llvm::toString(json.takeError());
  const llvm::json::Object &top = *json->getAsObject();
  EXPECT_EQ(top.getString("model"), "Tiny");
  EXPECT_EQ(top.getString("loss"), "loss");
  const llvm::json::Array &tensors = *top.getArray("tensors");
  EXPECT_EQ(tensors[0].getAsObject()->getString("name"), "w");
  EXPECT_EQ(tensors[0].getAsObject()->getString("kind"), "param");
  EXPECT_EQ(tensors[1].getAsObject()->getString("kind"), "input");
  const llvm::json::Array &calls =
      *top.getObject("steps")->getObject("train_step")->getArray("calls");
  ASSERT_EQ(calls.size(), 2u);
  const llvm::json::Array &update = *calls[1].getAsObject()->getArray("args");
  ASSERT_EQ(update.size(), 4u);
  EXPECT_EQ(update[2].getAsObject()->getString("scalar"), "lr");
  EXPECT_EQ(update[3].getAsObject()->getInteger("tensor"), 0);
  EXPECT_EQ(top.getObject("train")->getInteger("batch"), 4);

  // k0 through argv: x [2, 3] @ w [3, 2].
  desc->set_num_threads(1);
  desc->set_error_handler(recordError);
  float x[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, 0, 1, 1, 1}, y[4], s;
  RawBuffer bx(x, {2, 3}), bw(w, {3, 2}), by(y, {2, 2}), bs(&s, {});
  void *args0[] = {&bx.buffer, &bw.buffer, &by.buffer, &bs.buffer};
  ASSERT_EQ(desc->kernels[0](args0), 0) << lastError;
  float expected[4] = {4, 5, 10, 11};
  for (int i = 0; i < 4; ++i)
    EXPECT_FLOAT_EQ(y[i], expected[i]);
  EXPECT_FLOAT_EQ(s, 7.5f);

  // k1 in place: w <- w - lr * s.
  float lr = 0.5f;
  void *args1[] = {&bw.buffer, &bs.buffer, &lr, &bw.buffer};
  ASSERT_EQ(desc->kernels[1](args1), 0) << lastError;
  EXPECT_FLOAT_EQ(w[0], 1 - 3.75f);
  EXPECT_FLOAT_EQ(w[1], -3.75f);

  // A wrong extent is an error through the handler, not an abort.
  RawBuffer bad(w, {2, 2});
  void *args2[] = {&bx.buffer, &bad.buffer, &by.buffer, &bs.buffer};
  EXPECT_NE(desc->kernels[0](args2), 0);
  EXPECT_NE(lastError.find("arg1"), std::string::npos) << lastError;
  dlclose(lib);

  // A C program links the static library.
  std::string main = dir + "/main.c";
  std::ofstream(main)
      << "#include \"Tiny.h\"\n#include <stdio.h>\n"
         "int main(void) { printf(\"%d\", fm_model_Tiny()->num_kernels); "
         "return fm_model_Tiny()->num_kernels == 2 ? 0 : 1; }\n";
  std::string cmd = "cc -o " + dir + "/main " + main + " -I" + dir + " " + dir +
                    "/libTiny.a -lpthread -ldl -lm && " + dir + "/main";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  if (keep)
    std::cout << "kept " << dir << "\n";
  else
    llvm::sys::fs::remove_directories(dir);
}

/// kTiny with the matmul placed at a source line.
static std::string tinyWithLocations() {
  return replaceAll(kTiny,
                    "tensor<?x3xf32>, tensor<3x2xf32> -> tensor<?x2xf32>\n",
                    "tensor<?x3xf32>, tensor<3x2xf32> -> tensor<?x2xf32> "
                    "loc(\"tiny.fm\":7:5)\n");
}

TEST(EmitLibraryTest, KernelHalideWarnsAboutIsAnErrorAndNoLibrary) {
  // k0's accumulator bounded to one of the two columns its tile computes:
  // Halide proves the kernel would fail its bounds assertion. The build
  // stops with an error at the matmul's line, writes no library and
  // caches nothing, so the next build reports it again.
  auto parsed = parseModule(tinyWithLocations());
  ASSERT_TRUE(parsed);
  std::string dir = makeTempDir("fm-broken");
  EmitOptions options = sharedLibraryIn(dir);
  options.cacheDir = dir + "/cache";
  options.afterSchedule = [](const std::string &name, LoweredKernel &kernel) {
    if (name != "k0")
      return;
    for (Stage &stage : kernel.stages)
      if (stage.kind == StageKind::MatMulAcc)
        stage.func.bound(stage.func.args()[0], 0, 1);
  };
  std::vector<std::string> errors;
  mlir::ScopedDiagnosticHandler handler(
      &parsed->context, [&](mlir::Diagnostic &d) {
        auto flc = llvm::dyn_cast<mlir::FileLineColLoc>(d.getLocation());
        errors.push_back(
            (flc ? flc.getFilename().str() + ":" + std::to_string(flc.getLine())
                 : std::string("?")) +
            ": " + d.str());
        return mlir::success();
      });
  for (int attempt = 0; attempt < 2; ++attempt) {
    SCOPED_TRACE(attempt);
    errors.clear();
    std::string error;
    EXPECT_TRUE(
        mlir::failed(emitModelLibrary(*parsed->module, options, error)));
    EXPECT_NE(error.find("1 kernel would fail at run time"), std::string::npos)
        << error;
    ASSERT_FALSE(errors.empty());
    EXPECT_EQ(errors[0].rfind("tiny.fm:7: kernel 'k0' for ", 0), 0u)
        << errors[0];
    EXPECT_NE(errors[0].find("of fm.matmul"), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find("guaranteed to fail an assertion"),
              std::string::npos)
        << errors[0];
    EXPECT_FALSE(llvm::sys::fs::exists(dir + "/libTiny.a"));
    EXPECT_FALSE(llvm::sys::fs::exists(dir + "/libTiny.so"));
    EXPECT_FALSE(llvm::sys::fs::exists(dir + "/Tiny.objs"));
  }
  llvm::sys::fs::remove_directories(dir);
}

TEST(EmitLibraryTest, PortableLibraryHasEveryLevel) {
  // --target=portable: each kernel in AVX-512, AVX2 and SSE4.1 variants
  // behind Halide's dispatch, the runtime compiled for the baseline.
  auto parsed = parseModule(kTiny);
  ASSERT_TRUE(parsed);
  std::string dir = makeTempDir("fm-portable");
  EmitOptions options = sharedLibraryIn(dir);
  options.target = "portable";
  std::string error;
  ASSERT_TRUE(
      mlir::succeeded(emitModelLibrary(*parsed->module, options, error)))
      << error;
  void *lib = dlopen((dir + "/libTiny.so").c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_TRUE(lib) << dlerror();
  auto entry = reinterpret_cast<const fm_model_desc_t *(*)(void)>(
      dlsym(lib, "fm_model_Tiny"));
  ASSERT_TRUE(entry);
  const fm_model_desc_t *desc = entry();
  ASSERT_EQ(desc->num_variants, 3);
  EXPECT_STREQ(desc->variants[0].name, "avx512");
  EXPECT_STREQ(desc->variants[1].name, "avx2");
  EXPECT_STREQ(desc->variants[2].name, "sse41");
  EXPECT_STREQ(desc->variants[2].target, "x86-64-linux-sse41");
  EXPECT_STREQ(desc->variants[2].cpu_features[0], "sse41");
  EXPECT_EQ(desc->variants[2].cpu_features[1], nullptr);
  ASSERT_TRUE(desc->select_variant);
  // The baseline runs on any x86-64 CPU: steer the dispatch to it and run
  // (that the steering picks that variant's code is checked by
  // test/tools/fmc/target.fm: the same bytes as an SSE4.1-only library).
  desc->select_variant(2);
  desc->set_error_handler(recordError);
  float x[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, 0, 1, 1, 1}, y[4], s;
  RawBuffer bx(x, {2, 3}), bw(w, {3, 2}), by(y, {2, 2}), bs(&s, {});
  void *args[] = {&bx.buffer, &bw.buffer, &by.buffer, &bs.buffer};
  ASSERT_EQ(desc->kernels[0](args), 0) << lastError;
  float expected[4] = {4, 5, 10, 11};
  for (int i = 0; i < 4; ++i)
    EXPECT_FLOAT_EQ(y[i], expected[i]);
  dlclose(lib);
  llvm::sys::fs::remove_directories(dir);
}

TEST(EmitLibraryTest, EmitHalide) {
  auto parsed = parseModule(kTiny);
  ASSERT_TRUE(parsed);
  std::string text, error;
  llvm::raw_string_ostream os(text);
  EmitOptions options;
  ASSERT_TRUE(mlir::succeeded(emitHalide(*parsed->module, os, options, error)))
      << error;
  EXPECT_NE(
      text.find("@k0 -> fm_Tiny_k0_argv(arg0: f32[N, 3], arg1: f32[3, 2]"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("produce matmul_0"), std::string::npos) << text;
  EXPECT_NE(text.find("arg2: float scalar"), std::string::npos);
}

/// Plans `source` and returns the diagnostics it produced.
static std::string planDiagnostics(const std::string &source) {
  auto parsed = parseModule(source);
  EXPECT_TRUE(parsed);
  std::string messages;
  mlir::ScopedDiagnosticHandler handler(&parsed->context,
                                        [&](mlir::Diagnostic &d) {
                                          messages += d.str() + "\n";
                                          return mlir::success();
                                        });
  ModelPlan plan;
  EXPECT_TRUE(mlir::failed(planModel(*parsed->module, plan)));
  return messages;
}

TEST(DescriptorTest, RefusesClobberingAValueStillNeeded) {
  // k0 reads the old w after the update already overwrote it.
  std::string src = replaceAll(
      kTiny,
      "    fm.store %w2, @w : tensor<3x2xf32>\n    return %y#1 : tensor<f32>",
      "    %z:2 = func.call @k0(%x, %w) : (tensor<?x3xf32>, tensor<3x2xf32>) "
      "-> (tensor<?x2xf32>, tensor<f32>)\n"
      "    fm.store %w2, @w : tensor<3x2xf32>\n    return %z#1 : tensor<f32>");
  EXPECT_NE(planDiagnostics(src).find(
                "overwrites @w while its old value is still used"),
            std::string::npos);
}

TEST(DescriptorTest, RefusesInPlaceWritesThatAreNotPointwise) {
  // k1 now reads w through a transpose: it cannot write w in place.
  std::string src = replaceAll(kTiny,
                               "    %w2 = fm.sub %w, %d : tensor<3x2xf32>, "
                               "tensor<f32> -> tensor<3x2xf32>",
                               "    %t = fm.transpose %w {perm = array<i64: 1, "
                               "0>} : tensor<3x2xf32> -> tensor<2x3xf32>\n"
                               "    %u = fm.transpose %t {perm = array<i64: 1, "
                               "0>} : tensor<2x3xf32> -> tensor<3x2xf32>\n"
                               "    %w2 = fm.sub %u, %d : tensor<3x2xf32>, "
                               "tensor<f32> -> tensor<3x2xf32>");
  EXPECT_NE(planDiagnostics(src).find("does not read it pointwise"),
            std::string::npos);
}
