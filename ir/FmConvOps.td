//===- FmConvOps.td - Convolution and pooling ops ---*- tablegen -*-===//
//
// Included by FmOps.td after the base classes.
//
//===----------------------------------------------------------------------===//
#ifndef FM_FMCONVOPS_TD
#define FM_FMCONVOPS_TD

#endif // FM_FMCONVOPS_TD
