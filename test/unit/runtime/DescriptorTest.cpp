//===- DescriptorTest.cpp - Tests of descriptor validation ----------------===//
//
// Every inconsistency between a descriptor's parts must be a clear error
// that names the tensor, step or key at fault.
//
//===----------------------------------------------------------------------===//
#include "runtime/Descriptor.h"
#include "test/unit/runtime/TestSupport.h"

using namespace fm;
using namespace fm::test;

/// A small valid descriptor; pieces can be replaced to break it.
static std::string descriptor(const std::string &tensors,
                              const std::string &steps,
                              const std::string &top = "") {
  return R"({"format": "fm-model", "version": 1, "model": "M", "tensors": [)" +
         tensors + R"(], "steps": {)" + steps +
         R"(}, "loss": "loss", "metrics": [], "outputs": ["out"])" + top + "}";
}

static const char *kTensors =
    R"({"name": "x", "kind": "input", "dtype": "f32", "shape": [-1, 2]},
       {"name": "w", "kind": "param", "dtype": "f32", "shape": [2], "init": {"kind": "ones"}},
       {"name": "loss", "kind": "temp", "dtype": "f32", "shape": []},
       {"name": "out", "kind": "temp", "dtype": "f32", "shape": [-1, 2]})";

static std::string
steps(const std::string &trainArgs = R"({"tensor": 0}, {"scalar": "lr"})",
      int kernel = 0) {
  return R"("train_step": {"calls": [{"kernel": )" + std::to_string(kernel) +
         R"(, "args": [)" + trainArgs + R"(]}], "results": {"loss": 2}},
            "evaluate": {"calls": [], "results": {"loss": 2}},
            "predict": {"calls": [{"kernel": 1, "args": [{"tensor": 0}, {"tensor": 3}]}], "results": {"out": 3}})";
}

TEST(DescriptorTest, ParsesAValidDescriptor) {
  Descriptor d =
      parseDescriptor(descriptor(kTensors, steps(),
                                 R"(, "train": {"batch": 8, "seed": 7,
      "optimizer": {"kind": "sgd", "lr": 0.5}, "data": {"kind": "mnist", "dir": "/d"},
      "normalize": {"mean": [0.5], "std": [0.25]},
      "augment": [{"kind": "flip_horizontal"}, {"kind": "random_crop", "pad": 2}],
      "lr_schedule": {"kind": "step", "every": 2, "gamma": 0.5}, "early_stop": 3})"),
                      2);
  EXPECT_EQ(d.model, "M");
  ASSERT_EQ(d.tensors.size(), 4u);
  EXPECT_EQ(d.tensors[0].kind, TensorKind::Input);
  EXPECT_TRUE(d.tensors[0].isBatched());
  EXPECT_EQ(d.tensors[0].getSampleElementCount(), 2);
  EXPECT_EQ(d.tensors[1].init.kind, InitSpec::Kind::Ones);
  const StepDesc &train = d.getStep(StepKind::Train);
  ASSERT_EQ(train.calls.size(), 1u);
  EXPECT_EQ(train.calls[0].args[1].kind, CallArg::Kind::LearningRate);
  EXPECT_EQ(train.findResult("loss"), 2);
  EXPECT_EQ(d.train.batch, 8);
  EXPECT_EQ(d.train.seed, 7u);
  EXPECT_EQ(d.train.lr, 0.5);
  EXPECT_EQ(d.train.optimizer, "sgd");
  EXPECT_EQ(d.train.data.dir, "/d");
  EXPECT_EQ(d.train.augment.size(), 2u);
  EXPECT_EQ(d.train.augment[1].pad, 2);
  EXPECT_EQ(d.train.schedule.kind, LrSchedule::Kind::Step);
  EXPECT_EQ(d.train.earlyStop, 3);
  EXPECT_EQ(d.train.epochs, 10); // LANGUAGE.md default
  EXPECT_EQ(formatShape(d.tensors[0].dtype, d.tensors[0].shape), "f32[N, 2]");
}

TEST(DescriptorTest, RejectsBadTensorIds) {
  EXPECT_FM_ERROR(
      parseDescriptor(descriptor(kTensors, steps(R"({"tensor": 9})")), 2),
      "step 'train_step' call 0 arg 0: tensor id 9 out of range; the "
      "descriptor has 4 tensors");
  EXPECT_FM_ERROR(
      parseDescriptor(descriptor(kTensors, steps(R"({"tensor": -1})")), 2),
      "tensor id -1 out of range");
}

TEST(DescriptorTest, RejectsUnknownKernel) {
  EXPECT_FM_ERROR(
      parseDescriptor(descriptor(kTensors, steps(R"({"tensor": 0})", 5)), 2),
      "step 'train_step' call 0: unknown kernel index 5; the library has 2 "
      "kernels");
}

TEST(DescriptorTest, RejectsUnknownDtype) {
  std::string tensors = kTensors;
  tensors.replace(tensors.find("\"f32\""), 5, "\"f16\"");
  EXPECT_FM_ERROR(parseDescriptor(descriptor(tensors, steps()), 2),
                  "tensor 0 ('x'): unknown dtype 'f16'");
}

TEST(DescriptorTest, RejectsBadScalars) {
  EXPECT_FM_ERROR(
      parseDescriptor(descriptor(kTensors, steps(R"({"scalar": "momentum"})")),
                      2),
      "unknown scalar 'momentum'; expected 'lr' or 'step'");
  std::string s =
      R"("evaluate": {"calls": [{"kernel": 0, "args": [{"scalar": "lr"}]}], "results": {"loss": 2}})";
  EXPECT_FM_ERROR(parseDescriptor(descriptor(kTensors, s), 2),
                  "only train_step takes scalars");
  EXPECT_FM_ERROR(
      parseDescriptor(
          descriptor(kTensors, steps(R"({"tensor": 0, "scalar": "lr"})")), 2),
      "expected exactly one of 'tensor' or 'scalar'");
}

TEST(DescriptorTest, RejectsMissingOrBadResults) {
  std::string s = R"("evaluate": {"calls": [], "results": {}})";
  EXPECT_FM_ERROR(parseDescriptor(descriptor(kTensors, s), 2),
                  "step 'evaluate': missing result 'loss'");
  s = R"("evaluate": {"calls": [], "results": {"loss": 3}})";
  EXPECT_FM_ERROR(parseDescriptor(descriptor(kTensors, s), 2),
                  "result 'loss' must be an f32 or f64 scalar but tensor 'out' "
                  "is f32[N, 2]");
  s = R"("predict": {"calls": [], "results": {}})";
  EXPECT_FM_ERROR(parseDescriptor(descriptor(kTensors, s), 2),
                  "step 'predict': missing result 'out'");
  s = R"("infer": {"calls": [], "results": {}})";
  EXPECT_FM_ERROR(parseDescriptor(descriptor(kTensors, s), 2),
                  "unknown step 'infer'");
}

TEST(DescriptorTest, RejectsBadTensors) {
  auto one = [](const std::string &t) {
    return descriptor(
        t + R"(, {"name": "loss", "kind": "temp", "dtype": "f32", "shape": []},
                          {"name": "out", "kind": "temp", "dtype": "f32", "shape": [1]})",
        R"("predict": {"calls": [], "results": {"out": 2}})");
  };
  EXPECT_FM_ERROR(
      parseDescriptor(
          one(R"({"name": "w", "kind": "param", "dtype": "f32", "shape": [-1], "init": {"kind": "zeros"}})"),
          0),
      "tensor 0 ('w'): a param tensor cannot have a batch extent");
  EXPECT_FM_ERROR(
      parseDescriptor(
          one(R"({"name": "w", "kind": "param", "dtype": "f32", "shape": [2]})"),
          0),
      "tensor 0 ('w'): a param tensor needs an init");
  EXPECT_FM_ERROR(
      parseDescriptor(
          one(R"({"name": "w", "kind": "temp", "dtype": "f32", "shape": [2], "init": {"kind": "zeros"}})"),
          0),
      "only param and state tensors have an init");
  EXPECT_FM_ERROR(
      parseDescriptor(
          one(R"({"name": "w", "kind": "param", "dtype": "f32", "shape": [2], "init": {"kind": "uniform", "args": [1]}})"),
          0),
      "init 'uniform' expects 2 args but got 1");
  EXPECT_FM_ERROR(
      parseDescriptor(
          one(R"({"name": "w", "kind": "param", "dtype": "f32", "shape": [2], "init": {"kind": "glorot_normal", "fan_in": 2}})"),
          0),
      "needs positive fan_in and fan_out");
  EXPECT_FM_ERROR(
      parseDescriptor(
          one(R"({"name": "w", "kind": "param", "dtype": "i32", "shape": [2], "init": {"kind": "normal", "args": [1]}})"),
          0),
      "random init 'normal' needs a floating dtype but got i32");
  EXPECT_FM_ERROR(
      parseDescriptor(
          one(R"({"name": "w", "kind": "param", "dtype": "f32", "shape": [2], "init": {"kind": "orthogonal"}})"),
          0),
      "unknown init kind 'orthogonal'");
  EXPECT_FM_ERROR(
      parseDescriptor(
          one(R"({"name": "w", "kind": "weights", "dtype": "f32", "shape": [2]})"),
          0),
      "unknown kind 'weights'");
  EXPECT_FM_ERROR(
      parseDescriptor(
          one(R"({"name": "w", "kind": "input", "dtype": "f32", "shape": [0]})"),
          0),
      "extents must be positive or -1");
  EXPECT_FM_ERROR(
      parseDescriptor(
          one(R"({"name": "w", "kind": "input", "dtype": "f32", "shape": [1]},
                                         {"name": "w", "kind": "label", "dtype": "f32", "shape": [1]})"),
          0),
      "duplicate name 'w'");
}

TEST(DescriptorTest, RejectsLabelsInPredict) {
  std::string tensors =
      std::string(kTensors) +
      R"(, {"name": "y", "kind": "label", "dtype": "i32", "shape": [-1]})";
  std::string s =
      R"("predict": {"calls": [{"kernel": 0, "args": [{"tensor": 4}]}], "results": {"out": 3}})";
  EXPECT_FM_ERROR(parseDescriptor(descriptor(tensors, s), 1),
                  "predict cannot read label tensor 'y'");
}

TEST(DescriptorTest, RejectsWrongFormatAndBadTrainKeys) {
  EXPECT_FM_ERROR(parseDescriptor(R"({"format": "onnx", "version": 1})", 0),
                  "expected \"format\": \"fm-model\"");
  EXPECT_FM_ERROR(parseDescriptor(R"({"format": "fm-model", "version": 2})", 0),
                  "expected version 1 but got 2");
  EXPECT_FM_ERROR(parseDescriptor("{\"format\": ", 0),
                  "descriptor: invalid json at byte 11");
  EXPECT_FM_ERROR(
      parseDescriptor(
          descriptor(kTensors, steps(), R"(, "train": {"batch": 0})"), 2),
      "train.batch: expected at least 1 but got 0");
  EXPECT_FM_ERROR(
      parseDescriptor(
          descriptor(kTensors, steps(), R"(, "train": {"validation": 1.5})"),
          2),
      "train.validation: expected a fraction in [0, 1)");
  EXPECT_FM_ERROR(
      parseDescriptor(
          descriptor(kTensors, steps(),
                     R"(, "train": {"data": {"kind": "imagenet"}})"),
          2),
      "unknown data kind 'imagenet'");
  EXPECT_FM_ERROR(
      parseDescriptor(descriptor(kTensors, steps(),
                                 R"(, "train": {"data": {"kind": "idx"}})"),
                      2),
      "train.data: missing key 'train_images'");
  EXPECT_FM_ERROR(
      parseDescriptor(
          descriptor(kTensors, steps(),
                     R"(, "train": {"augment": [{"kind": "rotate"}]})"),
          2),
      "unknown augmentation 'rotate'");
}

/// The train-block forms docs/runtime.md promises the compiler, verbatim.
TEST(DescriptorTest, ParsesTheDocumentedTrainKeyForms) {
  auto train = [](const std::string &keys) {
    return parseDescriptor(
               descriptor(kTensors, steps(), R"(, "train": {)" + keys + "}"), 2)
        .train;
  };
  TrainSettings t = train(
      R"("data": {"kind": "cifar10", "dir": "/data/cifar"},
         "normalize": {"mean": [0.49, 0.48, 0.45], "std": [0.25, 0.24, 0.26]},
         "augment": [{"kind": "flip_horizontal"}, {"kind": "random_crop", "pad": 4}],
         "lr_schedule": {"kind": "cosine", "min": 0, "warmup": 2},
         "early_stop": 3, "checkpoint": "checkpoints/Cnn", "clip_grad_norm": 1.0)");
  EXPECT_EQ(t.data.kind, "cifar10");
  EXPECT_EQ(t.data.dir, "/data/cifar");
  EXPECT_EQ(t.normalizeMean, std::vector<double>({0.49, 0.48, 0.45}));
  EXPECT_EQ(t.normalizeStd, std::vector<double>({0.25, 0.24, 0.26}));
  ASSERT_EQ(t.augment.size(), 2u);
  EXPECT_EQ(t.augment[0].kind, Augmentation::Kind::FlipHorizontal);
  EXPECT_EQ(t.augment[1].kind, Augmentation::Kind::RandomCrop);
  EXPECT_EQ(t.augment[1].pad, 4);
  EXPECT_EQ(t.schedule.kind, LrSchedule::Kind::Cosine);
  EXPECT_EQ(t.schedule.min, 0);
  EXPECT_EQ(t.schedule.warmup, 2);
  EXPECT_EQ(t.earlyStop, 3);
  EXPECT_EQ(t.checkpoint, "checkpoints/Cnn");
  EXPECT_EQ(t.clipGradNorm, 1.0);

  t = train(R"("data": {"kind": "csv", "train": "/d/moons_train.csv",
                        "test": "/d/moons_test.csv", "label": "label"},
               "lr_schedule": {"kind": "step", "every": 2, "gamma": 0.5})");
  EXPECT_EQ(t.data.kind, "csv");
  EXPECT_EQ(t.data.train, "/d/moons_train.csv");
  EXPECT_EQ(t.data.test, "/d/moons_test.csv");
  EXPECT_EQ(t.data.label, "label");
  EXPECT_EQ(t.schedule.kind, LrSchedule::Kind::Step);
  EXPECT_EQ(t.schedule.every, 2);
  EXPECT_EQ(t.schedule.gamma, 0.5);
  EXPECT_EQ(t.schedule.warmup, 0);

  t = train(R"("lr_schedule": {"kind": "constant", "warmup": 1})");
  EXPECT_EQ(t.schedule.kind, LrSchedule::Kind::Constant);
  EXPECT_EQ(t.schedule.warmup, 1);
  t = train("");
  EXPECT_EQ(t.schedule.kind, LrSchedule::Kind::Constant);
  EXPECT_EQ(t.earlyStop, 0);
  EXPECT_TRUE(t.augment.empty());
  EXPECT_TRUE(t.normalizeMean.empty());

  EXPECT_FM_ERROR(train(R"("lr_schedule": {"kind": "step", "every": 2})"),
                  "train.lr_schedule: step needs 'gamma'");
  EXPECT_FM_ERROR(train(R"("lr_schedule": {"kind": "cosine", "min": -1})"),
                  "min >= 0");
  EXPECT_FM_ERROR(train(R"("lr_schedule": {"kind": "linear"})"),
                  "unknown schedule 'linear'");
  EXPECT_FM_ERROR(train(R"("data": {"kind": "csv", "train": "a.csv"})"),
                  "train.data: missing key 'test'");
  EXPECT_FM_ERROR(train(R"("data": {"kind": "cifar10"})"),
                  "train.data: missing key 'dir'");
  EXPECT_FM_ERROR(train(R"("normalize": {"mean": [0.5, 0.5], "std": [0.5]})"),
                  "mean and std need the same, non-zero length");
}
