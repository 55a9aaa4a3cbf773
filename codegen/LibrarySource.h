//===- LibrarySource.h - The C sources fmc writes ---------------*- C++ -*-===//
//
// This file declares the generators of a model library's C: MODEL_desc.c
// (the descriptor, the kernel table, the runtime wrappers) and MODEL.h.
// docs/codegen.md, "The model library", describes both.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_LIBRARYSOURCE_H
#define FM_CODEGEN_LIBRARYSOURCE_H

#include <string>
#include <vector>

namespace fm {

struct ModelPlan;
struct TargetVariant;

/// MODEL_desc.c: the descriptor JSON as a C string, the kernel table
/// (`names[i]` runs `symbols[i]_argv`), the target variants the kernels
/// were compiled for (best first) and fm_model_MODEL().
std::string getDescriptorSource(const ModelPlan &plan,
                                const std::vector<std::string> &names,
                                const std::vector<std::string> &symbols,
                                const std::vector<TargetVariant> &variants);

/// MODEL.h: declares fm_model_MODEL().
std::string getModelHeader(const std::string &model);

} // namespace fm

#endif // FM_CODEGEN_LIBRARYSOURCE_H
