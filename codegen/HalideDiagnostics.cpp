//===- HalideDiagnostics.cpp - Halide's warnings as kernel errors --------===//
//
// This file implements the process-wide CompileTimeErrorReporter that
// routes Halide's warnings to the HalideWarningScope of the thread raising
// them, and the reports that place each warning at its op.
//
//===----------------------------------------------------------------------===//
#include "codegen/HalideDiagnostics.h"

#include "codegen/FmToHalide.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"

#include <algorithm>
#include <cctype>
#include <iostream>

namespace fm {

static thread_local HalideWarningScope *currentScope = nullptr;

/// Halide's message without its "Warning:" line, on one line.
static std::string flatten(const char *message) {
  std::string text = message;
  for (const char *prefix : {"Warning:\n", "Warning: "})
    if (text.rfind(prefix, 0) == 0)
      text.erase(0, std::string(prefix).size());
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      if (!out.empty() && out.back() != ' ')
        out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

/// Warnings go to the thread's scope. Errors keep Halide's own behaviour
/// (it throws when built with exceptions, as Debian's libHalide14 is):
/// error() must not return.
class HalideReporter : public Halide::CompileTimeErrorReporter {
public:
  void warning(const char *message) override {
    if (!currentScope) {
      std::cerr << message;
      return;
    }
    // Halide repeats a warning in each pass that finds it: keep one.
    std::vector<std::string> &warnings = currentScope->warnings;
    std::string text = flatten(message);
    if (std::find(warnings.begin(), warnings.end(), text) == warnings.end())
      warnings.push_back(std::move(text));
  }
  void error(const char *message) override {
    std::string text = message;
    if (text.rfind("Internal", 0) == 0)
      throw Halide::InternalError(text);
    throw Halide::CompileError(text);
  }
};

static void installReporter() {
  static HalideReporter reporter;
  static bool installed =
      (Halide::set_custom_compile_time_error_reporter(&reporter), true);
  (void)installed;
}

HalideWarningScope::HalideWarningScope() : outer(currentScope) {
  installReporter();
  currentScope = this;
}

HalideWarningScope::~HalideWarningScope() { currentScope = outer; }

static bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

/// True if `name` occurs in `text` with no name character around it.
static bool containsWord(const std::string &text, const std::string &name) {
  for (size_t at = text.find(name); at != std::string::npos;
       at = text.find(name, at + 1)) {
    size_t end = at + name.size();
    if ((at == 0 || !isNameChar(text[at - 1])) &&
        (end == text.size() || !isNameChar(text[end])))
      return true;
  }
  return false;
}

const Stage *findStageInMessage(const LoweredKernel &kernel,
                                const std::string &message) {
  const Stage *best = nullptr;
  size_t bestLength = 0;
  for (const Stage &stage : kernel.stages) {
    // Halide makes names unique in the process (`acc$1`); messages use
    // the unique name, and sometimes the name as written.
    std::string unique = stage.func.name();
    std::string written = unique.substr(0, unique.find('$'));
    for (const std::string &name : {unique, written})
      if (name.size() > bestLength && containsWord(message, name)) {
        best = &stage;
        bestLength = name.size();
      }
  }
  return best;
}

/// "Func 'acc' of fm.conv2d_backward_filter" for the stage a message
/// names, or empty.
static std::string describeOrigin(const Stage *stage) {
  if (!stage)
    return "";
  std::string text = "Func '" + stage->func.name() + "'";
  if (stage->origin)
    text += " of " + stage->origin->getName().getStringRef().str();
  return text;
}

std::string describeKernelWarning(const LoweredKernel &kernel,
                                  const std::string &kernelName,
                                  const std::string &target,
                                  const std::string &warning) {
  std::string text =
      "kernel '" + kernelName + "' for " + target + " would fail at run time";
  std::string origin = describeOrigin(findStageInMessage(kernel, warning));
  if (!origin.empty())
    text += "; Halide warns about " + origin;
  return text + ": " + warning;
}

/// The op a message is about: the origin of the stage it names, else
/// `fallback`.
static mlir::Operation *findOrigin(const LoweredKernel &kernel,
                                   const std::string &message,
                                   mlir::Operation *fallback) {
  const Stage *stage = findStageInMessage(kernel, message);
  return stage && stage->origin ? stage->origin : fallback;
}

void reportKernelWarnings(const LoweredKernel &kernel,
                          const std::string &kernelName,
                          const std::string &target, mlir::Operation *fallback,
                          const std::vector<std::string> &warnings) {
  for (const std::string &warning : warnings)
    mlir::emitError(findOrigin(kernel, warning, fallback)->getLoc())
        << describeKernelWarning(kernel, kernelName, target, warning);
}

void reportAutoSchedulerRemarks(const LoweredKernel &kernel,
                                const std::string &kernelName,
                                const std::string &autoscheduler,
                                mlir::Operation *fallback,
                                const std::vector<std::string> &remarks) {
  for (const std::string &remark : remarks) {
    std::string origin = describeOrigin(findStageInMessage(kernel, remark));
    mlir::emitWarning(findOrigin(kernel, remark, fallback)->getLoc())
        << "kernel '" << kernelName << "': " << autoscheduler << " remarks"
        << (origin.empty() ? "" : " about " + origin) << ": " << remark;
  }
}

} // namespace fm
