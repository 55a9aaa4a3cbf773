//===- FmBase.td - The fm dialect's base definitions -------*- tablegen -*-===//
//
// The fm dialect: the tensor-level IR of fm models. Tensors are builtin
// ranked tensors with value semantics; `?` dimensions stand for the
// model's symbolic batch extent. Parameters are module-level symbols.
//
//===----------------------------------------------------------------------===//
#ifndef FM_BASE_TD
#define FM_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Fm_Dialect : Dialect {
  let name = "fm";
  let cppNamespace = "::mlir::fm";
  let summary = "Tensor-level operations of fm models";
  let description = [{
    The ops of the fm model language (LANGUAGE.md §8) with value
    semantics, their shape rules and their vector-Jacobian products.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
  let hasConstantMaterializer = 1;
  // Attributes stay in the op's dictionary so that MLIRGen can run an op's
  // shape rule (inferReturnTypes) before building it and report a user error.
  let usePropertiesForAttributes = 0;
}

def Fm_Float : AnyTypeOf<[F32, F64]>;
def Fm_Element : AnyTypeOf<[F32, F64, I1, I8, I32, I64]>;
def Fm_Tensor : RankedTensorOf<[F32, F64, I1, I8, I32, I64]>;
def Fm_FloatTensor : RankedTensorOf<[F32, F64]>;
def Fm_IntTensor : RankedTensorOf<[I32, I64, I8]>;
def Fm_BoolTensor : RankedTensorOf<[I1]>;
def Fm_Scalar : 0DTensorOf<[F32, F64]>;

class Fm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Fm_Dialect, mnemonic, traits>;

#endif // FM_BASE_TD
