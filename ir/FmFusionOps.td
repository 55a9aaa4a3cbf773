//===- FmFusionOps.td - Fusion regions ---------------------*- tablegen -*-===//
//
// Included by FmOps.td: the region that fm-fuse wraps around each fusion
// group and fm-outline-kernels turns into a kernel. Verifier in
// FmFusionOps.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef FM_FMFUSIONOPS_TD
#define FM_FMFUSIONOPS_TD

def Fm_FusedOp : Fm_Op<"fused", [SingleBlock, RecursiveMemoryEffects]> {
  let summary = "a fusion group: the ops of one future kernel";
  let description = [{
    `fm-fuse` moves the ops of each fusion group into the single block of
    one `fm.fused`; the values the rest of the step needs leave through
    `fm.yield`. The region is not isolated: it reads values of the step
    (parameters, inputs, results of earlier groups) directly, and every
    constant or `fm.size` it needs is cloned inside. `anchor` names the op
    that decides the kernel's schedule (`conv2d`, `matmul`, `pointwise`,
    ...), so a reader sees at a glance what each kernel is.
    ```mlir
    %h = fm.fused "conv2d" -> tensor<?x32x26x26xf32> {
      %c = fm.conv2d %x, %w {...} : ...
      %b = fm.reshape %bias : tensor<32xf32> -> tensor<32x1x1xf32>
      %s = fm.add %c, %b : ...
      %r = fm.relu %s : ...
      fm.yield %r : tensor<?x32x26x26xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$anchor);
  let results = (outs Variadic<Fm_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$anchor (`->` type($results)^)? $body attr-dict";
  let hasVerifier = 1;
}

def Fm_YieldOp : Fm_Op<"yield", [Pure, Terminator, HasParent<"FusedOp">]> {
  let summary = "the results of a fusion group";
  let arguments = (ins Variadic<Fm_Tensor>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // FM_FMFUSIONOPS_TD
