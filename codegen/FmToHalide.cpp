//===- FmToHalide.cpp - One fm kernel -> one Halide pipeline ----*- C++ -*-===//
//
// This file implements lowerKernel and the Lowering context shared by the
// per-family files in ops/. The lowering is a list of steps:
//   1. kernel arguments -> ImageParams / Param<float>s, with their buffer
//      shapes declared (min 0, static extents, dense strides);
//   2. the batch extent N -> the extent of the first batched argument;
//   3. each op -> Funcs, through the LoweringTable (keyed by TypeID);
//   4. returned values -> output Funcs (wrapped where a value cannot be an
//      output Func as it is: arguments, repeated or bool values).
//
//===----------------------------------------------------------------------===//
#include "codegen/ops/Lowering.h"

#include "ir/FmDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace ::fm;
using namespace ::fm::lowering;
using namespace mlir;

//===----------------------------------------------------------------------===//
// Tensor and Lowering
//===----------------------------------------------------------------------===//

Halide::Expr Tensor::at(const Index &index) const {
  assert(index.size() == rank() && "index rank mismatch");
  return func(Lowering::reversed(index));
}

const Tensor &Lowering::get(Value value) const {
  auto it = values.find(value);
  assert(it != values.end() && "value used before it was lowered");
  return it->second;
}

void Lowering::set(Value value, Tensor tensor) {
  values[value] = std::move(tensor);
}

Halide::Type Lowering::getType(Type elementType) {
  if (elementType.isF32())
    return Halide::Float(32);
  if (elementType.isF64())
    return Halide::Float(64);
  if (elementType.isInteger(1))
    return Halide::Bool();
  // i8 holds bytes (pixels): the descriptor calls it u8.
  if (elementType.isInteger(8))
    return Halide::UInt(8);
  if (elementType.isInteger(32))
    return Halide::Int(32);
  if (elementType.isInteger(64))
    return Halide::Int(64);
  return Halide::Type();
}

Halide::Type Lowering::getElementType(Value value) {
  return getType(
      llvm::cast<RankedTensorType>(value.getType()).getElementType());
}

std::vector<int64_t> Lowering::getShape(Value value) {
  std::vector<int64_t> shape;
  for (int64_t d : llvm::cast<RankedTensorType>(value.getType()).getShape())
    shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return shape;
}

Halide::Expr Lowering::getExtent(int64_t dim) const {
  return dim < 0 ? batch : Halide::Expr(static_cast<int>(dim));
}

std::vector<Halide::Expr>
Lowering::getExtents(const std::vector<int64_t> &shape) const {
  std::vector<Halide::Expr> extents;
  for (int64_t d : shape)
    extents.push_back(getExtent(d));
  return extents;
}

Halide::Expr Lowering::getCount(const Tensor &t,
                                const std::vector<int64_t> &axes) {
  Halide::Expr count = 1;
  for (int64_t a : axes)
    count = count * t.extents[a];
  return Halide::Internal::simplify(count);
}

std::string Lowering::getName(Operation *op, const std::string &suffix) const {
  // Ops are numbered by position in the kernel so names are stable.
  unsigned position = 0;
  for (Operation &other : *op->getBlock()) {
    if (&other == op)
      break;
    ++position;
  }
  std::string name =
      op->getName().stripDialect().str() + "_" + std::to_string(position);
  return suffix.empty() ? name : name + "_" + suffix;
}

std::vector<Halide::Var> Lowering::makeVars(size_t rank) {
  // Named by row-major axis: loops read `matmul_3.s0.i1`.
  std::vector<Halide::Var> vars;
  for (size_t i = 0; i < rank; ++i)
    vars.emplace_back("i" + std::to_string(i));
  return vars;
}

Index Lowering::toIndex(const std::vector<Halide::Var> &vars) {
  return Index(vars.begin(), vars.end());
}

Halide::Func Lowering::definePure(const std::string &name,
                                  const std::vector<int64_t> &shape,
                                  const ElementFn &fn) const {
  Halide::Func f(name);
  std::vector<Halide::Var> vars = makeVars(shape.size());
  f(reversed(vars)) = fn(toIndex(vars));
  return f;
}

Stage &Lowering::addStage(Halide::Func f, StageKind kind,
                          std::vector<Halide::Func> producers,
                          std::vector<int64_t> shape) {
  kernel.stages.push_back(
      Stage{std::move(f), kind, std::move(producers), std::move(shape)});
  kernel.stages.back().origin = origin;
  return kernel.stages.back();
}

int Lowering::getVectorLanes(Halide::Type t) const {
  return ::fm::getVectorLanes(kernel.target, t);
}

std::vector<Halide::Func> Lowering::getOperandFuncs(Operation *op) const {
  std::vector<Halide::Func> funcs;
  for (Value operand : op->getOperands()) {
    const Halide::Func &f = get(operand).func;
    bool seen = false;
    for (const Halide::Func &g : funcs)
      seen |= g.name() == f.name();
    if (!seen)
      funcs.push_back(f);
  }
  return funcs;
}

Stage &Lowering::bind(Value result, Halide::Func f, StageKind kind,
                      std::vector<Halide::Func> producers) {
  if (producers.empty())
    producers = getOperandFuncs(result.getDefiningOp());
  std::vector<int64_t> shape = getShape(result);
  set(result, Tensor{f, getElementType(result), shape, getExtents(shape)});
  return addStage(f, kind, std::move(producers), shape);
}

Stage &Lowering::bindPointwise(Operation *op, const ElementFn &fn,
                               StageKind kind) {
  Value result = op->getResult(0);
  Halide::Type type = getElementType(result);
  Halide::Func f =
      definePure(getName(op), getShape(result),
                 [&](const Index &i) { return convert(fn(i), type); });
  return bind(result, f, kind);
}

Halide::Expr Lowering::readBroadcast(const Tensor &operand,
                                     const std::vector<int64_t> &resultShape,
                                     const Index &index) {
  size_t lead = resultShape.size() - operand.rank();
  Index at;
  for (size_t j = 0; j < operand.rank(); ++j) {
    bool stretched = operand.shape[j] == 1 && resultShape[lead + j] != 1;
    at.push_back(stretched ? Halide::Expr(0) : index[lead + j]);
  }
  return operand.at(at);
}

Halide::Expr Lowering::constant(Halide::Type t, double value) {
  if (t.is_bool())
    return Halide::Internal::make_bool(value != 0);
  return Halide::Internal::make_const(t, value);
}

Halide::Expr Lowering::convert(Halide::Expr e, Halide::Type to) {
  if (e.type() == to)
    return e;
  if (to.is_bool())
    return e != Halide::Internal::make_zero(e.type());
  return Halide::cast(to, e);
}

//===----------------------------------------------------------------------===//
// LoweringTable
//===----------------------------------------------------------------------===//

LowerFn LoweringTable::lookup(Operation *op) const {
  auto it = table.find(op->getName().getTypeID());
  return it == table.end() ? nullptr : it->second;
}

const LoweringTable &LoweringTable::get() {
  static const LoweringTable table = [] {
    LoweringTable t;
    registerElementwiseLowerings(t);
    registerLinearAlgebraLowerings(t);
    registerReductionLowerings(t);
    registerNeuralNetLowerings(t);
    registerShapeLowerings(t);
    registerConvolutionLowerings(t);
    registerTensorLowerings(t);
    return t;
  }();
  return table;
}

//===----------------------------------------------------------------------===//
// LoweredKernel
//===----------------------------------------------------------------------===//

std::vector<Halide::Argument> LoweredKernel::getArguments() const {
  std::vector<Halide::Argument> arguments;
  for (const KernelArg &arg : args)
    arguments.push_back(arg.isScalar ? Halide::Argument(arg.scalar)
                                     : Halide::Argument(arg.image));
  return arguments;
}

Halide::Pipeline LoweredKernel::getPipeline() const {
  std::vector<Halide::Func> funcs;
  for (const KernelOutput &out : outputs)
    funcs.push_back(out.func);
  return Halide::Pipeline(funcs);
}

const Stage *LoweredKernel::findStage(const Halide::Func &f) const {
  for (const Stage &stage : stages)
    if (stage.func.name() == f.name())
      return &stage;
  return nullptr;
}

bool LoweredKernel::isOutput(const Halide::Func &f) const {
  for (const KernelOutput &out : outputs)
    if (out.func.name() == f.name())
      return true;
  return false;
}

//===----------------------------------------------------------------------===//
// lowerKernel
//===----------------------------------------------------------------------===//

/// The type of a buffer holding `t` elements: bool travels as uint8.
static Halide::Type getBufferType(Halide::Type t) {
  return t.is_bool() ? Halide::UInt(8) : t;
}

/// Declares the shape of a kernel buffer: mins 0, static extents, dense
/// row-major strides. Known extents and strides simplify addressing, and a
/// caller passing a wrong shape gets an error instead of a wild read.
static void constrainBuffer(Halide::OutputImageParam buffer,
                            const std::vector<int64_t> &shape) {
  int rank = shape.size();
  for (int d = 0; d < rank; ++d) {
    int64_t extent = shape[rank - 1 - d];
    Halide::Internal::Dimension dim = buffer.dim(d);
    dim.set_min(0);
    if (extent >= 0)
      dim.set_extent(static_cast<int>(extent));
    // Estimates only matter to autoschedulers; 64 is the usual batch.
    dim.set_estimate(0, static_cast<int>(extent >= 0 ? extent : 64));
    if (d > 0)
      dim.set_stride(buffer.dim(d - 1).stride() * buffer.dim(d - 1).extent());
  }
}

/// Declares the kernel's arguments as ImageParams and Params; returns the
/// batch extent: that of the first batched argument (all `?` are equal),
/// undefined if no argument has one.
static Halide::Expr declareArguments(func::FuncOp kernel, LoweredKernel &out) {
  Halide::Expr batch;
  for (BlockArgument arg : kernel.getArguments()) {
    KernelArg karg;
    karg.name = "arg" + std::to_string(arg.getArgNumber());
    karg.shape = Lowering::getShape(arg);
    karg.type = getBufferType(Lowering::getElementType(arg));
    karg.isScalar =
        static_cast<bool>(kernel.getArgAttr(arg.getArgNumber(), "fm.scalar"));
    if (karg.isScalar) {
      karg.scalar = Halide::Param<float>(karg.name);
      karg.type = Halide::Float(32);
    } else {
      int rank = karg.shape.size();
      karg.image = Halide::ImageParam(karg.type, rank, karg.name);
      constrainBuffer(karg.image, karg.shape);
      for (int axis = 0; axis < rank && !batch.defined(); ++axis)
        if (karg.shape[axis] < 0)
          batch = karg.image.dim(rank - 1 - axis).extent();
    }
    out.args.push_back(karg);
  }
  return batch;
}

/// Binds each argument to a Func reading it, converted to its IR type.
static void bindArguments(func::FuncOp kernel, LoweredKernel &out,
                          Lowering &ctx) {
  for (auto [arg, karg] : llvm::zip(kernel.getArguments(), out.args)) {
    Halide::Type type = Lowering::getElementType(arg);
    Halide::Func f;
    if (karg.isScalar) {
      f = Halide::Func(karg.name + "_scalar");
      f() = Lowering::convert(karg.scalar, type);
    } else if (type.is_bool()) {
      Halide::ImageParam image = karg.image;
      f = ctx.definePure(karg.name + "_bool", karg.shape, [&](const Index &i) {
        return image(Lowering::reversed(i)) != 0;
      });
    } else {
      f = karg.image; // the ImageParam's own wrapper Func, always inlined
    }
    ctx.addStage(f, StageKind::Input, {}, karg.shape);
    ctx.set(arg, Tensor{f, type, karg.shape, ctx.getExtents(karg.shape)});
  }
}

/// True for the tensor types a kernel boundary can carry.
static bool isSupportedTensor(Type type) {
  auto tensor = llvm::dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return false;
  Type e = tensor.getElementType();
  return e.isF32() || e.isF64() || e.isInteger(1) || e.isInteger(8) ||
         e.isInteger(32) || e.isInteger(64);
}

/// True if any value of the kernel has a batch extent.
static bool usesBatch(func::FuncOp kernel) {
  bool batched = false;
  kernel.walk([&](Operation *op) {
    for (Type t : op->getResultTypes())
      if (auto tensor = llvm::dyn_cast<RankedTensorType>(t))
        batched |= !tensor.hasStaticShape();
  });
  return batched;
}

/// Makes one output Func per returned value.
static void lowerResults(func::ReturnOp ret, LoweredKernel &out,
                         Lowering &ctx) {
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    const Tensor &t = ctx.get(value);
    const Stage *stage = out.findStage(t.func);
    bool direct = stage && stage->kind != StageKind::Input &&
                  stage->kind != StageKind::Constant && !t.type.is_bool() &&
                  !out.isOutput(t.func) && t.func.outputs() == 1;
    Halide::Func f = t.func;
    if (!direct) {
      ctx.setOrigin(value.getDefiningOp());
      Halide::Type type = getBufferType(t.type);
      f = ctx.definePure("result_" + std::to_string(i), t.shape,
                         [&](const Index &index) {
                           return Lowering::convert(t.at(index), type);
                         });
      ctx.addStage(f, StageKind::Pointwise, {t.func}, t.shape);
    }
    constrainBuffer(f.output_buffer(), t.shape);
    out.outputs.push_back(KernelOutput{f, getBufferType(t.type), t.shape});
  }
}

namespace fm {
int getVectorLanes(const Halide::Target &target, Halide::Type t) {
  return target.natural_vector_size(t.bits() == 64 ? Halide::Float(64)
                                                   : Halide::Float(32));
}

LogicalResult lowerKernel(func::FuncOp kernel, LoweredKernel &out,
                          const Halide::Target &target,
                          const std::string &name) {
  out = LoweredKernel();
  out.name = name.empty() ? kernel.getSymName().str() : name;
  out.target = target;
  if (kernel.getBody().getBlocks().size() != 1)
    return kernel.emitOpError() << "expected a kernel of one block";
  if (kernel.getNumResults() == 0)
    return kernel.emitOpError() << "expected a kernel with results";
  try {
    for (BlockArgument arg : kernel.getArguments())
      if (!isSupportedTensor(arg.getType()))
        return kernel.emitOpError()
               << "expected ranked tensors of f32, f64, i1, i8, i32 or i64 "
                  "but argument "
               << arg.getArgNumber() << " is " << arg.getType();
    Halide::Expr batch = declareArguments(kernel, out);
    if (!batch.defined() && usesBatch(kernel))
      return kernel.emitOpError()
             << "computes batch-shaped values but no argument has the batch "
                "extent";
    Lowering ctx(out, batch);
    bindArguments(kernel, out, ctx);

    const LoweringTable &table = LoweringTable::get();
    for (Operation &op : kernel.getBody().front()) {
      if (auto ret = llvm::dyn_cast<func::ReturnOp>(op)) {
        lowerResults(ret, out, ctx);
        continue;
      }
      LowerFn lower = table.lookup(&op);
      if (!lower)
        return op.emitOpError() << "has no Halide lowering";
      for (Type t : op.getResultTypes())
        if (!llvm::isa<RankedTensorType>(t))
          return op.emitOpError() << "expected tensor results but got " << t;
      ctx.setOrigin(&op);
      if (failed(lower(&op, ctx)))
        return failure();
      ctx.setOrigin(nullptr);
    }
  } catch (const Halide::Error &e) {
    return kernel.emitOpError()
           << "failed to build its Halide pipeline: " << e.what();
  }
  return success();
}
} // namespace fm
