//===- TrainerScheduleTest.cpp - Augmentation and schedules -------------===//
//
// Data augmentation and normalisation (deterministic, and doing what they
// say) and the learning-rate schedules with their warm-up.
//
//===----------------------------------------------------------------------===//
#include "test/unit/runtime/TrainerFixture.h"

using namespace fm;
using namespace fm::test;

TEST_F(TrainerTest, AugmentationAndNormalisationAreDeterministic) {
  LinearConfig c;
  c.extraTrain =
      R"(, "normalize": [0.5, 0.25], "augment": [{"kind": "flip_horizontal"}, {"kind": "random_crop", "pad": 1}])";
  setConfig(c);
  Model model(&desc);
  Trainer trainer(model, data, quiet());
  std::vector<int64_t> indices(16);
  for (int i = 0; i < 16; ++i)
    indices[i] = i;
  const float *x =
      static_cast<const float *>(model.getData(model.getTensorId("x")));
  trainer.loadBatch(data.train, indices.data(), 16, false, 0);
  EXPECT_FLOAT_EQ(x[3], (data.train.u8[3] / 255.0f - 0.5f) / 0.25f);
  trainer.loadBatch(data.train, indices.data(), 16, true, 42);
  std::vector<float> first(x, x + 256);
  trainer.loadBatch(data.train, indices.data(), 16, true, 42);
  EXPECT_EQ(std::vector<float>(x, x + 256), first);
  trainer.loadBatch(data.train, indices.data(), 16, true, 43);
  EXPECT_NE(std::vector<float>(x, x + 256), first);
  // Normalised inputs still train. (Not augmented ones: a horizontal flip
  // changes the class of these blobs.)
  c.extraTrain = R"(, "normalize": {"mean": 0.5, "std": 0.25})";
  setConfig(c);
  Model normalised(&desc);
  EXPECT_GT(Trainer(normalised, data, quiet()).run().test.get("acc"), 0.9);
}

TEST_F(TrainerTest, AugmentationsDoWhatTheySay) {
  // One 2-channel 4x4 sample with distinct values, loaded many times.
  Dataset d;
  d.name = "one";
  d.numClasses = 4;
  for (Split *s : {&d.train, &d.test}) {
    s->count = 1;
    s->sampleShape = {2, 4, 4};
    for (int i = 0; i < 32; ++i)
      s->u8.push_back(static_cast<uint8_t>(i + 1));
    s->labels = {0};
  }
  auto pixel = [](int c, int y, int x) {
    return float(c * 16 + y * 4 + x + 1);
  };
  // setConfig fixes the input at [N, 1, 4, 4]; this test needs 2 channels.
  std::string twoChannels;
  fm_model_desc_t twoDesc;
  auto make = [&](LinearConfig c) {
    c.inputShape = {-1, 2, 4, 4};
    twoChannels = linearDescriptor(c);
    twoDesc = fm_test_make_desc(twoChannels.c_str());
  };
  auto loadWith = [&](const std::string &augment, uint64_t seed) {
    LinearConfig c;
    c.inputShape = {-1, 2, 4, 4};
    c.extraTrain = R"(, "augment": )" + augment;
    make(c);
    Model model(&twoDesc);
    TrainOptions o = quiet();
    o.scale = 1;
    Trainer trainer(model, d, o);
    int64_t index = 0;
    trainer.loadBatch(d.train, &index, 1, true, seed);
    const float *x = static_cast<const float *>(model.getData(0));
    return std::vector<float>(x, x + 32);
  };
  int flipped = 0, kept = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    std::vector<float> v = loadWith(R"([{"kind": "flip_horizontal"}])", seed);
    bool isFlip = true, isSame = true;
    for (int c = 0; c < 2; ++c)
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) {
          isFlip &= v[c * 16 + y * 4 + x] == pixel(c, y, 3 - x);
          isSame &= v[c * 16 + y * 4 + x] == pixel(c, y, x);
        }
    ASSERT_TRUE(isFlip || isSame) << "seed " << seed;
    flipped += isFlip;
    kept += isSame;
  }
  EXPECT_GT(flipped, 5);
  EXPECT_GT(kept, 5);
  // random_crop(1): the same shift on every channel, zeros shifted in.
  std::set<std::pair<int, int>> shifts;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    std::vector<float> v =
        loadWith(R"([{"kind": "random_crop", "pad": 1}])", seed);
    bool found = false;
    for (int dy = -1; dy <= 1 && !found; ++dy)
      for (int dx = -1; dx <= 1 && !found; ++dx) {
        bool match = true;
        for (int c = 0; c < 2; ++c)
          for (int y = 0; y < 4; ++y)
            for (int x = 0; x < 4; ++x) {
              int sy = y + dy, sx = x + dx;
              bool inside = sy >= 0 && sy < 4 && sx >= 0 && sx < 4;
              match &=
                  v[c * 16 + y * 4 + x] == (inside ? pixel(c, sy, sx) : 0.0f);
            }
        if (match) {
          shifts.insert({dy, dx});
          found = true;
        }
      }
    ASSERT_TRUE(found) << "seed " << seed;
  }
  EXPECT_EQ(shifts.size(), 9u); // every offset in [-1, 1]^2 occurs
  // Per-channel normalisation after scale.
  LinearConfig c;
  c.inputShape = {-1, 2, 4, 4};
  c.extraTrain = R"(, "normalize": {"mean": [1, 2], "std": [2, 4]})";
  make(c);
  Model model(&twoDesc);
  TrainOptions o = quiet();
  o.scale = 0.5;
  Trainer trainer(model, d, o);
  int64_t index = 0;
  trainer.loadBatch(d.train, &index, 1, false, 0);
  const float *x = static_cast<const float *>(model.getData(0));
  EXPECT_FLOAT_EQ(x[5], (pixel(0, 1, 1) * 0.5f - 1) / 2);
  EXPECT_FLOAT_EQ(x[16 + 5], (pixel(1, 1, 1) * 0.5f - 2) / 4);
}

TEST_F(TrainerTest, LearningRateSchedules) {
  LinearConfig c;
  c.extraTrain =
      R"(, "lr_schedule": {"kind": "step", "every": 2, "gamma": 0.5, "warmup": 1})";
  setConfig(c);
  Model model(&desc);
  Trainer step(model, data, quiet());
  EXPECT_NEAR(step.getLearningRate(0, 0, 10), 0.1 * 1 / 10, 1e-12); // warm-up
  EXPECT_NEAR(step.getLearningRate(0, 9, 10), 0.1, 1e-12);
  EXPECT_NEAR(step.getLearningRate(1, 0, 10), 0.1, 1e-12);
  EXPECT_NEAR(step.getLearningRate(2, 0, 10), 0.05, 1e-12);
  EXPECT_NEAR(step.getLearningRate(4, 3, 10), 0.025, 1e-12);
  c.extraTrain = R"(, "lr_schedule": {"kind": "cosine", "min": 0.01})";
  setConfig(c);
  Model model2(&desc);
  Trainer cosine(model2, data, quiet());
  EXPECT_NEAR(cosine.getLearningRate(0, 0, 10), 0.1, 1e-12);
  EXPECT_NEAR(cosine.getLearningRate(2, 5, 10), 0.055,
              1e-12); // halfway of 5 epochs
}

TEST_F(TrainerTest, WarmupRampsEverySchedule) {
  LinearConfig c;
  c.extraTrain =
      R"(, "lr_schedule": {"kind": "cosine", "min": 0.02, "warmup": 1})";
  setConfig(c);
  Model model(&desc);
  Trainer t(model, data, quiet()); // 5 epochs, lr 0.1
  EXPECT_NEAR(t.getLearningRate(0, 4, 10), 0.1 * 5 / 10, 1e-12);
  EXPECT_NEAR(t.getLearningRate(1, 0, 10), 0.1, 1e-12);
  // Halfway through the 4 epochs after warm-up.
  EXPECT_NEAR(t.getLearningRate(3, 0, 10), 0.02 + 0.08 * 0.5, 1e-12);
  EXPECT_NEAR(t.getLearningRate(4, 9, 10),
              0.02 + 0.08 * 0.5 * (1 + std::cos(M_PI * 3.9 / 4)), 1e-12);
  c.extraTrain = R"(, "lr_schedule": {"kind": "constant", "warmup": 0.5})";
  setConfig(c);
  Model model2(&desc);
  Trainer constant(model2, data, quiet());
  EXPECT_NEAR(constant.getLearningRate(0, 0, 10), 0.1 / 5, 1e-12);
  EXPECT_NEAR(constant.getLearningRate(0, 4, 10), 0.1, 1e-12);
  EXPECT_NEAR(constant.getLearningRate(3, 7, 10), 0.1, 1e-12);
}
