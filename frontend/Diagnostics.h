//===- Diagnostics.h - Error reporting for the fm compiler ------*- C++ -*-===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file declares `fm::DiagnosticEngine`, which prints errors, warnings
// and notes in the `file:line:col: error: message` form, followed by the
// source line and a caret, through `llvm::SourceMgr::PrintMessage`. It counts
// errors so that a stage can report everything it finds and the driver can
// still exit with a failure status.
//
// The lexer and parser use it, and so can every later stage that has a
// `fm::Location` (an AST node) or a file/line/column (an
// `mlir::FileLineColLoc`):
//
//   diag.error(call->getLoc(), "unknown function '" + name + "'");
//   diag.note(fn->getLoc(), "'" + name + "' is defined here");
//
// Messages are lowercase, without a trailing period, in the form
// "expected X but got Y"; clauses are separated with ';'.
//
//===----------------------------------------------------------------------===//

#ifndef FM_FRONTEND_DIAGNOSTICS_H
#define FM_FRONTEND_DIAGNOSTICS_H

#include "frontend/Location.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

namespace fm {

/// How serious a diagnostic is.
enum class Severity { Error, Warning, Note, Remark };

/// Prints diagnostics against the buffers of a `llvm::SourceMgr` and counts
/// errors. Notes attach to the error or warning reported just before them.
class DiagnosticEngine {
public:
  /// Diagnostics are printed to `os`; the buffers of `sourceMgr` provide the
  /// source lines shown under each message.
  explicit DiagnosticEngine(llvm::SourceMgr &sourceMgr,
                            llvm::raw_ostream &os = llvm::errs());

  /// Reports an error at `loc`.
  void error(const Location &loc, const llvm::Twine &message) {
    report(Severity::Error, loc, message);
  }
  /// Reports a warning at `loc`.
  void warning(const Location &loc, const llvm::Twine &message) {
    report(Severity::Warning, loc, message);
  }
  /// Reports a note at `loc`, attached to the previous error or warning.
  void note(const Location &loc, const llvm::Twine &message) {
    report(Severity::Note, loc, message);
  }
  /// Reports a diagnostic given as a file name, 1-based line and column
  /// (the fields of an `mlir::FileLineColLoc`).
  void report(Severity severity, llvm::StringRef file, unsigned line,
              unsigned col, const llvm::Twine &message) {
    report(severity, Location::get(file, line, col), message);
  }
  /// Reports a diagnostic at `loc`. When the location does not fall in a
  /// buffer of the source manager, the message is printed without the
  /// source line.
  void report(Severity severity, const Location &loc,
              const llvm::Twine &message);

  /// The number of errors reported so far (including suppressed ones).
  unsigned getErrorCount() const { return errorCount; }
  bool hasErrors() const { return errorCount != 0; }

  /// Stops printing errors after `limit` of them (0: no limit). The first
  /// error past the limit prints "too many errors emitted, stopping now"
  /// instead, and from then on `hasReachedErrorLimit` tells stages to stop.
  void setErrorLimit(unsigned limit) { errorLimit = limit; }
  bool hasReachedErrorLimit() const {
    return errorLimit != 0 && errorCount > errorLimit;
  }

  /// Turns colored output on or off (default: on if the stream has colors).
  void setShowColors(bool show) { showColors = show; }

  /// Maps `loc` to a pointer into one of the source manager's buffers, or an
  /// invalid SMLoc if no buffer with that name contains it.
  llvm::SMLoc getSMLoc(const Location &loc) const;

  llvm::SourceMgr &getSourceMgr() { return sourceMgr; }
  llvm::raw_ostream &getStream() { return os; }

private:
  llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
  unsigned errorCount = 0;
  unsigned errorLimit = 0;
  bool showColors;
  /// True when the last error or warning was not printed, so that the notes
  /// that follow it are not printed either.
  bool suppressingNotes = false;
};

} // namespace fm

#endif // FM_FRONTEND_DIAGNOSTICS_H
