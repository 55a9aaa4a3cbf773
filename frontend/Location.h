//===- Location.h - Source positions for the fm front end -------*- C++ -*-===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file declares `fm::Location`, the file/line/column triple that every
// token and AST node carries. It maps one-to-one onto an
// `mlir::FileLineColLoc`, so MLIRGen can turn it into an MLIR location and
// later stages can turn an MLIR location back into one to report errors
// through the `DiagnosticEngine`.
//
//===----------------------------------------------------------------------===//

#ifndef FM_FRONTEND_LOCATION_H
#define FM_FRONTEND_LOCATION_H

#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>

namespace fm {

/// A position in a source file. Lines and columns start at 1; columns count
/// bytes. A default-constructed location (line 0) is "unknown".
struct Location {
  /// The file name, shared by every location of one file.
  std::shared_ptr<std::string> file;
  unsigned line = 0;
  unsigned col = 0;

  Location() = default;
  Location(std::shared_ptr<std::string> file, unsigned line, unsigned col)
      : file(std::move(file)), line(line), col(col) {}

  /// Builds a location from a plain file name (e.g. taken from an
  /// `mlir::FileLineColLoc`).
  static Location get(llvm::StringRef file, unsigned line, unsigned col) {
    return Location(std::make_shared<std::string>(file.str()), line, col);
  }

  llvm::StringRef getFile() const {
    return file ? llvm::StringRef(*file) : llvm::StringRef();
  }
  unsigned getLine() const { return line; }
  unsigned getColumn() const { return col; }
  bool isValid() const { return line != 0; }
};

} // namespace fm

#endif // FM_FRONTEND_LOCATION_H
