//===- ConvSchedules.h - Schedules of convolutions, pooling ---*- C++ -*-===//
//
// This file declares the hand schedules of the convolution and pooling
// stages (StageKind ConvPack ... Window, lowered by ops/Convolution.cpp).
// Schedules.cpp's hand scheduler calls them for those anchors; they are
// kept apart to keep each file readable.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_CONVSCHEDULES_H
#define FM_CODEGEN_CONVSCHEDULES_H

#include "codegen/ScheduleContext.h"

namespace fm::conv {

/// Schedules a ConvAcc and its packs inside the tiles of `root`: the Conv
/// stage reading the accumulator, or the pointwise Func it is fused into
/// (`relu(conv + bias)`), which gets the register-tiled loop nest. With
/// `within` (a Window stage, the only reader of root: a col2im gather, or
/// a pooling through bias and activation), root is computed per image
/// inside that stage's loop over images.
void scheduleConvolution(const ScheduleContext &ctx, const Stage &root,
                         const Stage &acc, const Stage *within = nullptr);

/// Schedules a filter gradient: the Filter stage `result`, the FilterSum it
/// reads, the FilterAcc inside it and their packs.
void scheduleFilterGradient(const ScheduleContext &ctx, const Stage &result);

/// Schedules a materialised Window stage (a pooling output, an argmax).
void scheduleWindow(const ScheduleContext &ctx, const Stage &stage);

} // namespace fm::conv

#endif // FM_CODEGEN_CONVSCHEDULES_H
