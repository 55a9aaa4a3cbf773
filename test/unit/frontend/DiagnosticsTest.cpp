//===- DiagnosticsTest.cpp - Tests for the fm DiagnosticEngine ------------===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file tests the message format, notes, the error count and limit, and
// reporting at locations given as file/line/column (as MLIRGen will).
//
//===----------------------------------------------------------------------===//

#include "frontend/Diagnostics.h"

#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

using namespace fm;

namespace {

struct DiagnosticsTest : ::testing::Test {
  DiagnosticsTest() : diag(sourceMgr, os) {
    sourceMgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(
                                     "model M {\n  h = relu(x)\n}\n", "m.fm"),
                                 llvm::SMLoc());
  }

  llvm::SourceMgr sourceMgr;
  std::string text;
  llvm::raw_string_ostream os{text};
  DiagnosticEngine diag;
};

TEST_F(DiagnosticsTest, ErrorShowsSourceLineAndCaret) {
  diag.error(Location::get("m.fm", 2, 12), "unknown name 'x'");
  EXPECT_EQ(os.str(), "m.fm:2:12: error: unknown name 'x'\n"
                      "  h = relu(x)\n"
                      "           ^\n");
  EXPECT_EQ(diag.getErrorCount(), 1u);
  EXPECT_TRUE(diag.hasErrors());
}

TEST_F(DiagnosticsTest, NotesAndWarningsDoNotCount) {
  diag.warning(Location::get("m.fm", 1, 7), "unused model");
  diag.note(Location::get("m.fm", 1, 1), "declared here");
  EXPECT_EQ(diag.getErrorCount(), 0u);
  EXPECT_NE(os.str().find("m.fm:1:7: warning: unused model"),
            std::string::npos);
  EXPECT_NE(os.str().find("m.fm:1:1: note: declared here"), std::string::npos);
}

TEST_F(DiagnosticsTest, FileLineColumnReporting) {
  // The form MLIRGen uses with an mlir::FileLineColLoc.
  diag.report(Severity::Error, "m.fm", 2, 3, "shape mismatch");
  EXPECT_NE(os.str().find("m.fm:2:3: error: shape mismatch\n  h = relu(x)\n"
                          "  ^\n"),
            std::string::npos)
      << os.str();
}

TEST_F(DiagnosticsTest, LocationsOutsideTheBuffers) {
  // An unknown file, a line past the end, and an unknown location print
  // the message without a source line, and never crash.
  diag.error(Location::get("other.fm", 3, 4), "a");
  diag.error(Location::get("m.fm", 99, 1), "b");
  diag.error(Location(), "c");
  EXPECT_NE(os.str().find("other.fm:3:4: error: a\n"), std::string::npos)
      << os.str();
  EXPECT_NE(os.str().find("m.fm:99:1: error: b\n"), std::string::npos);
  EXPECT_NE(os.str().find("error: c\n"), std::string::npos);
  EXPECT_EQ(diag.getErrorCount(), 3u);
}

TEST_F(DiagnosticsTest, ErrorLimit) {
  diag.setErrorLimit(2);
  Location loc = Location::get("m.fm", 1, 1);
  diag.error(loc, "first");
  diag.note(loc, "first note");
  diag.error(loc, "second");
  EXPECT_FALSE(diag.hasReachedErrorLimit());
  diag.error(loc, "third");
  diag.note(loc, "third note");
  diag.error(loc, "fourth");
  EXPECT_TRUE(diag.hasReachedErrorLimit());
  EXPECT_EQ(diag.getErrorCount(), 4u);
  std::string out = os.str();
  EXPECT_NE(out.find("first note"), std::string::npos);
  EXPECT_NE(out.find("second"), std::string::npos);
  EXPECT_EQ(out.find("third"), std::string::npos);
  EXPECT_EQ(out.find("fourth"), std::string::npos);
  EXPECT_NE(out.find("too many errors emitted, stopping now"),
            std::string::npos);
}

} // namespace
