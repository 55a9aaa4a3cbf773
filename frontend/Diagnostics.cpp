//===- Diagnostics.cpp - Error reporting for the fm compiler --------------===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file implements `fm::DiagnosticEngine`.
//
//===----------------------------------------------------------------------===//

#include "frontend/Diagnostics.h"

using namespace fm;

DiagnosticEngine::DiagnosticEngine(llvm::SourceMgr &sourceMgr,
                                   llvm::raw_ostream &os)
    : sourceMgr(sourceMgr), os(os), showColors(os.has_colors()) {}

llvm::SMLoc DiagnosticEngine::getSMLoc(const Location &loc) const {
  if (!loc.isValid())
    return llvm::SMLoc();
  for (unsigned id = 1, e = sourceMgr.getNumBuffers(); id <= e; ++id) {
    if (sourceMgr.getMemoryBuffer(id)->getBufferIdentifier() != loc.getFile())
      continue;
    return const_cast<llvm::SourceMgr &>(sourceMgr).FindLocForLineAndColumn(
        id, loc.line, loc.col);
  }
  return llvm::SMLoc();
}

static llvm::SourceMgr::DiagKind toDiagKind(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return llvm::SourceMgr::DK_Error;
  case Severity::Warning:
    return llvm::SourceMgr::DK_Warning;
  case Severity::Note:
    return llvm::SourceMgr::DK_Note;
  case Severity::Remark:
    return llvm::SourceMgr::DK_Remark;
  }
  llvm_unreachable("unknown severity");
}

void DiagnosticEngine::report(Severity severity, const Location &loc,
                              const llvm::Twine &message) {
  if (severity == Severity::Error) {
    ++errorCount;
    suppressingNotes = errorLimit != 0 && errorCount > errorLimit;
    if (suppressingNotes) {
      // The first error past the limit is replaced by a final message.
      if (errorCount == errorLimit + 1) {
        llvm::SMDiagnostic stop(loc.getFile(), llvm::SourceMgr::DK_Error,
                                "too many errors emitted, stopping now");
        stop.print(/*ProgName=*/nullptr, os, showColors);
      }
      return;
    }
  } else if (severity == Severity::Note) {
    if (suppressingNotes)
      return;
  } else {
    suppressingNotes = false;
  }

  llvm::SourceMgr::DiagKind kind = toDiagKind(severity);
  llvm::SMLoc smLoc = getSMLoc(loc);
  if (smLoc.isValid()) {
    sourceMgr.PrintMessage(os, smLoc, kind, message, {}, {}, showColors);
  } else {
    // No buffer holds this location: print "file:line:col: message" alone.
    llvm::SMDiagnostic diag(sourceMgr, llvm::SMLoc(), loc.getFile(),
                            loc.isValid() ? int(loc.line) : -1,
                            loc.isValid() ? int(loc.col) - 1 : -1, kind,
                            message.str(), /*LineStr=*/"", {});
    diag.print(/*ProgName=*/nullptr, os, showColors);
  }
}
