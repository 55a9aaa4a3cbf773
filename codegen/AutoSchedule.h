//===- AutoSchedule.h - Halide's autoschedulers on fm kernels --*- C++ -*-===//
//
// This file declares autoScheduleKernel, which hands a lowered kernel to
// one of Halide 14's autoschedulers (Adams2019, Mullapudi2016, Li2018)
// instead of the hand schedule. scheduleKernel calls it for
// ScheduleKind::Auto; it is kept apart from the hand rules.
//
//===----------------------------------------------------------------------===//
#ifndef FM_CODEGEN_AUTOSCHEDULE_H
#define FM_CODEGEN_AUTOSCHEDULE_H

#include "codegen/FmToHalide.h"
#include "codegen/Schedules.h"

#include <cstdint>
#include <string>

namespace fm {

/// Sets estimates on every argument and output of `kernel` (the batch
/// extent is options.batchEstimate) and runs options.autoscheduler on its
/// pipeline; the schedule is stored in the kernel's Funcs. The plugin is
/// loaded once per process. Throws Halide::Error for an unknown name, a
/// missing plugin, or a failure of the autoscheduler.
void autoScheduleKernel(LoweredKernel &kernel, const ScheduleOptions &options);

/// The size of this machine's last-level cache in bytes, read from sysfs;
/// Halide's generic 16 MiB where sysfs does not say.
uint64_t getLastLevelCacheBytes();

/// What besides the kernel and the schedule's name decides an
/// autoscheduler's result, for the kernel cache's key: the machine
/// parameters it is given and, for Adams2019, the search settings it reads
/// from the environment (HL_BEAM_SIZE and the others).
std::string describeAutoScheduler(const ScheduleOptions &options);

} // namespace fm

#endif // FM_CODEGEN_AUTOSCHEDULE_H
