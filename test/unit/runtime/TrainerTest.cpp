//===- TrainerTest.cpp - The training loop ------------------------------===//
//
// The loop itself: the loss falls and accuracy is high on separable data,
// the same seed gives the same bits, limits and splits select the right
// samples, a wrong shape is named, batches are scaled, early stopping and
// divergence, the C API.
//
//===----------------------------------------------------------------------===//
#include "test/unit/runtime/TrainerFixture.h"

using namespace fm;
using namespace fm::test;

TEST_F(TrainerTest, LossFallsAndAccuracyIsHigh) {
  Model model(&desc);
  TrainOptions o = quiet();
  o.logPath = tmp.file("run.jsonl");
  TrainReport r = Trainer(model, data, o).run();
  ASSERT_EQ(r.epochs.size(), 5u);
  // 203 samples, 20 held out: 183 = 11 batches of 16 and one of 7.
  EXPECT_EQ(r.epochs[0].train.samples, 183);
  EXPECT_EQ(r.epochs[0].validation.samples, 20);
  EXPECT_EQ(model.getStepCount(), 5 * 12);
  EXPECT_LT(r.epochs.back().train.get("loss"),
            r.epochs.front().train.get("loss"));
  EXPECT_LT(r.epochs.back().train.get("loss"), 0.5);
  EXPECT_GT(r.epochs.back().validation.get("acc"), 0.9);
  EXPECT_EQ(r.test.samples, 50);
  EXPECT_GT(r.test.get("acc"), 0.95);

  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0].rfind("epoch 1/5  train loss ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(" acc "), std::string::npos);
  EXPECT_NE(lines[0].find("  val loss "), std::string::npos);
  EXPECT_NE(lines[0].find(" img/s  "), std::string::npos);
  EXPECT_EQ(lines[5].rfind("test  loss ", 0), 0u) << lines[5];

  std::ifstream log(tmp.file("run.jsonl"));
  std::vector<json::Value> records;
  for (std::string line; std::getline(log, line);)
    records.push_back(json::parse(line));
  ASSERT_EQ(records.size(), 7u);
  EXPECT_EQ(records[0].at("event", "").getString(), "start");
  EXPECT_EQ(records[1].at("event", "").getString(), "epoch");
  EXPECT_EQ(records[1].at("train", "").at("samples", "").getInteger(), 183);
  EXPECT_EQ(records[6].at("event", "").getString(), "test");

  struct stat st;
  EXPECT_EQ(::stat(tmp.file("ckpt/last.safetensors").c_str(), &st), 0);
  EXPECT_EQ(::stat(tmp.file("ckpt/best.safetensors").c_str(), &st), 0);
  SafetensorsFile last = readSafetensors(tmp.file("ckpt/last.safetensors"));
  EXPECT_EQ(*last.findMetadata("epoch"), "5");
  EXPECT_EQ(*last.findMetadata("step"), "60");
}

TEST_F(TrainerTest, SameSeedSameBitsDifferentSeedDifferentBits) {
  Model a(&desc), b(&desc), c(&desc);
  TrainOptions o = quiet();
  o.epochs = 2;
  Trainer(a, data, o).run();
  Trainer(b, data, o).run();
  EXPECT_EQ(params(a), params(b));
  o.seed = 2;
  Trainer(c, data, o).run();
  EXPECT_NE(params(a), params(c));
}

TEST_F(TrainerTest, LimitUsesOnlyTheFirstSamples) {
  Model model(&desc);
  TrainOptions o = quiet();
  o.limit = 50;
  o.epochs = 1;
  TrainReport r = Trainer(model, data, o).run();
  EXPECT_EQ(r.epochs[0].train.samples, 45);
  EXPECT_EQ(r.epochs[0].validation.samples, 5);
  EXPECT_EQ(model.getStepCount(), 3); // 16 + 16 + 13
}

TEST_F(TrainerTest, ShapeMismatchNamesBothShapes) {
  LinearConfig c;
  c.inputShape = {-1, 15};
  std::string bad = linearDescriptor(c);
  fm_model_desc_t badDesc = fm_test_make_desc(bad.c_str());
  Model model(&badDesc);
  EXPECT_FM_ERROR(
      Trainer(model, data, quiet()),
      "input 'x' is f32[N, 15] (15 elements per sample) but data set "
      "'blobs' has samples of shape [4, 4] (16 elements)");
}

TEST_F(TrainerTest, BatchesAreScaledAndLabelsConverted) {
  LinearConfig c;
  c.labelDtype = "f32";
  setConfig(c);
  Model model(&desc);
  Trainer trainer(model, data, quiet());
  int64_t indices[2] = {5, 0};
  trainer.loadBatch(data.train, indices, 2, false, 0);
  const float *x =
      static_cast<const float *>(model.getData(model.getTensorId("x")));
  const float *y =
      static_cast<const float *>(model.getData(model.getTensorId("y")));
  EXPECT_FLOAT_EQ(x[0], data.train.u8[5 * 16] / 255.0f);
  EXPECT_FLOAT_EQ(x[16], data.train.u8[0] / 255.0f);
  EXPECT_EQ(y[0], static_cast<float>(data.train.labels[5]));
  EXPECT_EQ(y[1], static_cast<float>(data.train.labels[0]));
}

TEST_F(TrainerTest, EarlyStopAndDivergence) {
  Model model(&desc);
  TrainOptions o = quiet();
  o.lr = 1e-30; // too small to move a float: validation loss stays put
  o.epochs = 10;
  LinearConfig c;
  c.extraTrain = R"(, "early_stop": 2)";
  setConfig(c);
  Model stopping(&desc);
  TrainReport r = Trainer(stopping, data, o).run();
  EXPECT_TRUE(r.stoppedEarly);
  EXPECT_EQ(r.epochs.size(), 3u);
  o.lr = 1e38; // overflows the weights within a few steps
  EXPECT_FM_ERROR(Trainer(model, data, o).run(), "training diverged");
}

TEST_F(TrainerTest, CApiTrainsFromIdxFiles) {
  // The same blobs, written as IDX files and loaded through the C API.
  auto idx = [&](const std::string &path, const Split &s, bool labels) {
    std::vector<uint8_t> b = {0, 0, 8, static_cast<uint8_t>(labels ? 1 : 3)};
    std::vector<uint32_t> dims = {static_cast<uint32_t>(s.count)};
    if (!labels)
      dims.insert(dims.end(), {4, 4});
    for (uint32_t d : dims)
      for (int sh = 24; sh >= 0; sh -= 8)
        b.push_back(static_cast<uint8_t>(d >> sh));
    if (labels)
      for (int32_t l : s.labels)
        b.push_back(static_cast<uint8_t>(l));
    else
      b.insert(b.end(), s.u8.begin(), s.u8.end());
    writeBytes(path, b);
  };
  idx(tmp.file("tri"), data.train, false);
  idx(tmp.file("trl"), data.train, true);
  idx(tmp.file("tei"), data.test, false);
  idx(tmp.file("tel"), data.test, true);
  fm_dataset_t *dataset = nullptr;
  ASSERT_EQ(fm_dataset_load_idx(
                tmp.file("tri").c_str(), tmp.file("trl").c_str(),
                tmp.file("tei").c_str(), tmp.file("tel").c_str(), 4, &dataset),
            nullptr);
  EXPECT_EQ(fm_dataset_size(dataset, FM_SPLIT_TRAIN), 203);
  fm_model_t *model = nullptr;
  ASSERT_EQ(fm_model_create(&desc, &model), nullptr);
  fm_train_options_t o;
  fm_train_options_initialize(&o);
  o.epochs = 3;
  std::string dir = tmp.file("c-ckpt");
  o.checkpoint_dir = dir.c_str();
  int calls = 0;
  o.progress = [](void *user, const char *) { ++*static_cast<int *>(user); };
  o.progress_user_data = &calls;
  fm_metrics_t test;
  fm_status_t status = fm_model_train(model, dataset, &o, &test);
  ASSERT_TRUE(fm_status_is_ok(status)) << fm_status_message(status);
  EXPECT_EQ(calls, 4);
  ASSERT_EQ(test.count, 2);
  EXPECT_STREQ(test.names[0], "loss");
  EXPECT_STREQ(test.names[1], "acc");
  EXPECT_GT(test.values[1], 0.9);
  fm_metrics_t again;
  ASSERT_EQ(fm_model_evaluate_split(model, dataset, FM_SPLIT_TEST, 7, &again),
            nullptr);
  EXPECT_NEAR(again.values[1], test.values[1], 1e-6);
  o.limit = -1;
  status = fm_model_train(model, dataset, &o, nullptr);
  EXPECT_EQ(fm_status_code(status), FM_STATUS_INVALID_ARGUMENT);
  fm_status_free(status);
  fm_model_release(model);
  fm_dataset_release(dataset);
}

TEST_F(TrainerTest, SplitsForEvaluation) {
  Model model(&desc);
  TrainOptions o = quiet();
  o.limit = 100;
  Trainer t(model, data, o);
  SplitRange train = t.getSplit("train"), val = t.getSplit("validation"),
             test = t.getSplit("test");
  EXPECT_EQ(train.first, 0);
  EXPECT_EQ(train.count, 90);
  EXPECT_EQ(val.first, 90);
  EXPECT_EQ(val.count, 10);
  EXPECT_EQ(val.split, &data.train);
  EXPECT_EQ(test.count, 50);
  EXPECT_EQ(test.split, &data.test);
  EXPECT_FM_ERROR(t.getSplit("dev"), "unknown split 'dev'");
  o.validation = 0;
  Trainer none(model, data, o);
  EXPECT_FM_ERROR(none.getSplit("validation"),
                  "there is no validation split: train.validation is 0");
}
