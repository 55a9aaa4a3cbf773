//===- HalideDiagnosticsTest.cpp - Halide's warnings as kernel errors ----===//
//
// A schedule that Halide can prove wrong (a Func bounded to fewer columns
// than its consumer reads: the class of the AVX-512 lane bug) makes Halide
// warn at compile time that the pipeline will fail an assertion. The
// warning must reach the scope of the thread that compiled the kernel and
// no other, name the Func and the op it came from, and be reported at that
// op's source line. JitKernel refuses such a kernel; EmitLibraryTest
// checks that fmc's path writes no library.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include "codegen/HalideDiagnostics.h"

#include "mlir/IR/Diagnostics.h"

#include "gtest/gtest.h"

#include <thread>

using namespace fm;
using namespace fm::test;

namespace {

const char *kKernel = R"mlir(
func.func private @k(%x: tensor<?x32xf32>) -> tensor<?x32xf32> attributes {fm.kernel} {
  %e = fm.exp %x : tensor<?x32xf32> -> tensor<?x32xf32> loc("model.fm":3:7)
  %r = fm.add %e, %e : tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x32xf32> loc("model.fm":4:9)
  return %r : tensor<?x32xf32>
}
)mlir";

/// Lowers @k and schedules exp's Func at root, bounded to 8 of the 32
/// columns the add reads.
void lowerBroken(ParsedModule &parsed, LoweredKernel &kernel) {
  ASSERT_TRUE(mlir::succeeded(
      lowerKernel(parsed.lookup("k"), kernel, getHostTarget())));
  for (Stage &stage : kernel.stages)
    if (stage.func.name().rfind("exp_", 0) == 0) {
      Halide::Var x = stage.func.args()[0];
      stage.func.compute_root().bound(x, 0, 8);
    }
}

/// The warnings raised compiling `kernel` in this thread.
std::vector<std::string> compileCollecting(LoweredKernel &kernel) {
  HalideWarningScope scope;
  kernel.getPipeline().compile_to_lowered_stmt(
      ::testing::TempDir() + "broken.stmt", kernel.getArguments(), Halide::Text,
      getHostTarget());
  return scope.getWarnings();
}

TEST(HalideDiagnosticsTest, ProvablyFailingScheduleIsReportedAtItsOp) {
  auto parsed = parseModule(kKernel);
  ASSERT_TRUE(parsed);
  LoweredKernel kernel;
  lowerBroken(*parsed, kernel);
  std::vector<std::string> warnings = compileCollecting(kernel);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("guaranteed to fail an assertion"),
            std::string::npos)
      << warnings[0];
  const Stage *stage = findStageInMessage(kernel, warnings[0]);
  ASSERT_TRUE(stage);
  EXPECT_EQ(stage->origin->getName().getStringRef(), "fm.exp");

  std::vector<std::pair<std::string, std::string>> reported;
  mlir::ScopedDiagnosticHandler handler(
      &parsed->context, [&](mlir::Diagnostic &d) {
        std::string where;
        if (auto flc = llvm::dyn_cast<mlir::FileLineColLoc>(d.getLocation()))
          where = flc.getFilename().str() + ":" +
                  std::to_string(flc.getLine()) + ":" +
                  std::to_string(flc.getColumn());
        reported.emplace_back(where, d.str());
        EXPECT_EQ(d.getSeverity(), mlir::DiagnosticSeverity::Error);
        return mlir::success();
      });
  reportKernelWarnings(kernel, "k", "x86-64-linux-avx2", parsed->lookup("k"),
                       warnings);
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].first, "model.fm:3:7");
  const std::string &message = reported[0].second;
  for (const char *part :
       {"kernel 'k' for x86-64-linux-avx2 would fail at run time", "of fm.exp",
        "guaranteed to fail an assertion"})
    EXPECT_NE(message.find(part), std::string::npos) << message;
}

TEST(HalideDiagnosticsTest, WarningsStayWithTheirThread) {
  // Kernels compile on several threads; each keeps its own warnings.
  auto parsed = parseModule(kKernel);
  ASSERT_TRUE(parsed);
  LoweredKernel broken, fine;
  lowerBroken(*parsed, broken);
  ASSERT_TRUE(
      mlir::succeeded(lowerKernel(parsed->lookup("k"), fine, getHostTarget())));
  scheduleKernel(fine);
  std::vector<std::string> brokenWarnings, fineWarnings;
  std::thread other([&] { brokenWarnings = compileCollecting(broken); });
  fineWarnings = compileCollecting(fine);
  other.join();
  EXPECT_EQ(brokenWarnings.size(), 1u);
  EXPECT_TRUE(fineWarnings.empty());
}

TEST(HalideDiagnosticsTest, NestedScopesCollectInTheInnermost) {
  auto parsed = parseModule(kKernel);
  ASSERT_TRUE(parsed);
  LoweredKernel kernel;
  lowerBroken(*parsed, kernel);
  HalideWarningScope outer;
  EXPECT_EQ(compileCollecting(kernel).size(), 1u);
  EXPECT_TRUE(outer.getWarnings().empty());
}

TEST(HalideDiagnosticsTest, ErrorsStillThrow) {
  // The reporter installed for warnings keeps Halide's errors exceptions.
  HalideWarningScope scope;
  Halide::Func f("f");
  Halide::Var x("x");
  f(x) = x;
  EXPECT_THROW(f.vectorize(Halide::Var("not_an_arg"), 8), Halide::Error);
}

} // namespace
