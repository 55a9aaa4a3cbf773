//===- Runtime.h - The C++ API of libfmrt in one include --------*- C++ -*-===//
//
// This file gathers the C++ API a program that links a model library and
// libfmrt uses:
//
//   #include "runtime/Runtime.h"
//   #include "MyModel.h"                     // from fmc: fm_model_MyModel()
//
//   fm::Model model(fm_model_MyModel());    // params from train.seed
//   fm::Dataset data = fm::Dataset::fromSpec(model.getDescriptor().train.data);
//   fm::TrainReport report = fm::Trainer(model, data).run();
//   fm::saveCheckpoint(model, "my.safetensors");
//
// Every function throws fm::Error on failure; fm_runtime.h is the C API
// over the same core, which never throws.
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_RUNTIME_H
#define FM_RUNTIME_RUNTIME_H

#include "runtime/Checkpoint.h"
#include "runtime/Error.h"
#include "runtime/Model.h"
#include "runtime/Predictions.h"
#include "runtime/Trainer.h"
#include "runtime/data/Dataset.h"
#include "runtime/data/IdxDataset.h"

#endif // FM_RUNTIME_RUNTIME_H
