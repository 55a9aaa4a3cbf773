//===- FmTensorOps.td - Tensor manipulation, reductions and other ops ---*- tablegen -*-===//
//
// Included by FmOps.td after the base classes.
//
//===----------------------------------------------------------------------===//
#ifndef FM_FMTENSOROPS_TD
#define FM_FMTENSOROPS_TD

#endif // FM_FMTENSOROPS_TD
