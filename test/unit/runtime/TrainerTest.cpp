//===- TrainerTest.cpp - Tests of the training loop -----------------------===//
//
// Trains the hand-written linear-softmax model (LinearKernels.c) on a
// generated, separable data set whose size leaves a partial last batch:
// the loss must fall and accuracy must be high; the same seed must give
// bit-identical parameters, a resumed run the same bits as an
// uninterrupted one.
//
//===----------------------------------------------------------------------===//
#include "runtime/Trainer.h"
#include "runtime/Checkpoint.h"
#include "runtime/Json.h"
#include "runtime/Rng.h"
#include "runtime/fm_runtime.h"
#include "test/unit/runtime/LinearKernels.h"
#include "test/unit/runtime/TestSupport.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sys/stat.h>

using namespace fm;
using namespace fm::test;

/// 4x4 "images" of 4 classes: the quadrant of the class is bright.
static Split blobSplit(int64_t count, uint64_t seed) {
  Rng rng(seed);
  Split s;
  s.count = count;
  s.sampleShape = {4, 4};
  for (int64_t i = 0; i < count; ++i) {
    int32_t label = static_cast<int32_t>(rng.below(4));
    s.labels.push_back(label);
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) {
        bool bright = (r / 2) * 2 + c / 2 == label;
        s.u8.push_back(static_cast<uint8_t>(bright ? 150 + rng.below(100)
                                                   : rng.below(60)));
      }
  }
  return s;
}

static Dataset blobs() {
  Dataset d;
  d.name = "blobs";
  d.numClasses = 4;
  d.train = blobSplit(203, 1);
  d.test = blobSplit(50, 2);
  d.validate();
  return d;
}

class TrainerTest : public ::testing::Test {
protected:
  void SetUp() override { setConfig(LinearConfig()); }
  void setConfig(LinearConfig c) {
    c.inputShape = {-1, 1, 4, 4};
    c.validation = 0.1;
    c.epochs = 5;
    json = linearDescriptor(c);
    desc = fm_test_make_desc(json.c_str());
  }
  TrainOptions quiet() {
    TrainOptions o;
    o.progress = [this](const std::string &line) { lines.push_back(line); };
    o.checkpointDir = tmp.file("ckpt");
    return o;
  }
  std::vector<uint8_t> params(const Model &m) {
    std::vector<uint8_t> bytes;
    for (int id = 0; id < m.getNumTensors(); ++id) {
      TensorKind k = m.getTensorDesc(id).kind;
      if (k == TensorKind::Param || k == TensorKind::State) {
        const uint8_t *p = static_cast<const uint8_t *>(m.getData(id));
        bytes.insert(bytes.end(), p, p + m.getByteSize(id, 1));
      }
    }
    return bytes;
  }

  TempDir tmp;
  std::string json;
  fm_model_desc_t desc;
  Dataset data = blobs();
  std::vector<std::string> lines;
};

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

TEST_F(TrainerTest, ResumeContinuesBitForBit) {
  Model straight(&desc), resumed(&desc);
  TrainOptions o = quiet();
  o.epochs = 4;
  Trainer(straight, data, o).run();
  o.epochs = 2;
  o.checkpointDir = tmp.file("half");
  Trainer(resumed, data, o).run();
  Model fresh(&desc);
  o.epochs = 4;
  o.checkpointDir = tmp.file("rest");
  o.resumePath = tmp.file("half/last.safetensors");
  TrainReport r = Trainer(fresh, data, o).run();
  EXPECT_EQ(r.epochs.size(), 2u);
  EXPECT_EQ(r.epochs[0].epoch, 3);
  EXPECT_EQ(fresh.getStepCount(), straight.getStepCount());
  EXPECT_EQ(params(fresh), params(straight));
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

/// Reads a whole file.
static std::vector<uint8_t> fileBytes(const std::string &path) {
  return readBytes(path);
}

TEST_F(TrainerTest, InterruptedAndResumedFromTheFolderGivesTheSameFiles) {
  // A schedule that depends on the total epoch count, so an interruption
  // that shortened the run would show.
  LinearConfig c;
  c.extraTrain =
      R"(, "lr_schedule": {"kind": "cosine", "min": 0.001, "warmup": 1}, "early_stop": 10)";
  setConfig(c);
  Model straight(&desc), first(&desc), second(&desc);
  TrainOptions o = quiet();
  o.epochs = 4;
  o.checkpointDir = tmp.file("straight");
  o.logPath = tmp.file("straight.jsonl");
  TrainReport whole = Trainer(straight, data, o).run();
  o.checkpointDir = tmp.file("split");
  o.logPath = tmp.file("split.jsonl");
  o.stopAfter = 2;
  TrainReport part = Trainer(first, data, o).run();
  EXPECT_TRUE(part.interrupted);
  EXPECT_EQ(part.epochs.size(), 2u);
  EXPECT_EQ(part.test.samples, 0); // the test split waits for the end
  EXPECT_NE(lines.back().find("stopped after 2 of 4 epochs as asked; "
                              "continue with --resume " +
                              tmp.file("split")),
            std::string::npos)
      << lines.back();
  o.stopAfter = 0;
  o.resumePath = tmp.file("split"); // the folder: its last.safetensors
  TrainReport rest = Trainer(second, data, o).run();
  EXPECT_FALSE(rest.interrupted);
  ASSERT_EQ(rest.epochs.size(), 2u);
  EXPECT_EQ(rest.epochs[0].epoch, 3);
  EXPECT_EQ(rest.epochs[1].lr, whole.epochs[3].lr);
  EXPECT_EQ(rest.test.values, whole.test.values);
  EXPECT_EQ(fileBytes(tmp.file("split/last.safetensors")),
            fileBytes(tmp.file("straight/last.safetensors")));
  EXPECT_EQ(fileBytes(tmp.file("split/best.safetensors")),
            fileBytes(tmp.file("straight/best.safetensors")));
  // The log continues: start, 2 epochs, start (resumed), 2 epochs, test.
  std::ifstream log(tmp.file("split.jsonl"));
  std::vector<json::Value> records;
  for (std::string line; std::getline(log, line);)
    records.push_back(json::parse(line));
  ASSERT_EQ(records.size(), 7u);
  EXPECT_EQ(records[3].at("start_epoch", "").getInteger(), 2);
  EXPECT_EQ(records[3].at("resumed_from", "").getString(),
            tmp.file("split/last.safetensors"));

  EXPECT_FM_ERROR(Trainer::resolveResumePath(tmp.path()),
                  "no checkpoint to resume from in folder '" + tmp.path() +
                      "' (expected " + tmp.path() + "/last.safetensors)");
  EXPECT_EQ(Trainer::resolveResumePath(tmp.file("x.safetensors")),
            tmp.file("x.safetensors"));
}

TEST_F(TrainerTest, ResumingWithAnotherBatchWarns) {
  Model a(&desc), b(&desc);
  TrainOptions o = quiet();
  o.epochs = 1;
  Trainer(a, data, o).run();
  o.epochs = 2;
  o.batch = 8;
  o.resumePath = tmp.file("ckpt/last.safetensors");
  Trainer(b, data, o).run();
  bool warned = false;
  for (const std::string &l : lines)
    warned |= l.find("warning: resuming with 8 as batch size but checkpoint") !=
              std::string::npos;
  EXPECT_TRUE(warned);
}

/// Blobs whose validation tail (the last 20 of 203 training samples) is
/// labelled wrongly: the better the model fits, the worse validation gets.
static Dataset misleadingValidation() {
  Dataset d = blobs();
  for (int64_t i = 183; i < 203; ++i)
    d.train.labels[i] = (d.train.labels[i] + 1) % 4;
  return d;
}

TEST_F(TrainerTest, OverfittingIsFlagged) {
  Dataset d = misleadingValidation();
  Model model(&desc);
  TrainOptions o = quiet();
  o.logPath = tmp.file("run.jsonl");
  TrainReport r = Trainer(model, d, o).run();
  ASSERT_EQ(r.epochs.size(), 5u);
  bool flagged = false;
  for (size_t e = 0; e < r.epochs.size(); ++e) {
    const EpochRecord &rec = r.epochs[e];
    EXPECT_DOUBLE_EQ(rec.gap,
                     rec.validation.get("loss") - rec.train.get("loss"));
    EXPECT_EQ(rec.overfitting, rec.risingEpochs >= 2);
    EXPECT_NE(lines[e].find("  gap +"), std::string::npos) << lines[e];
    bool marked =
        lines[e].find("<< overfitting: val loss rose ") != std::string::npos;
    EXPECT_EQ(marked, rec.overfitting) << lines[e];
    flagged |= rec.overfitting;
  }
  EXPECT_TRUE(flagged);
  EXPECT_FALSE(r.epochs[0].overfitting);
  std::ifstream log(tmp.file("run.jsonl"));
  std::string line;
  std::getline(log, line); // start
  std::getline(log, line);
  json::Value epoch1 = json::parse(line);
  EXPECT_FALSE(epoch1.at("overfitting", "").getBool());
  EXPECT_NEAR(epoch1.at("gap", "").getNumber(), r.epochs[0].gap, 1e-12);
}

TEST_F(TrainerTest, EarlyStopRestoresTheBestEpochForTheTest) {
  LinearConfig c;
  c.extraTrain = R"(, "early_stop": 2)";
  setConfig(c);
  Dataset d = misleadingValidation();
  Model model(&desc);
  TrainOptions o = quiet();
  o.epochs = 10;
  TrainReport r = Trainer(model, d, o).run();
  EXPECT_TRUE(r.stoppedEarly);
  ASSERT_GE(r.epochs.size(), 3u);
  EXPECT_LT(r.bestEpoch, r.epochs.back().epoch);
  EXPECT_TRUE(r.restoredBest);
  bool said = false;
  for (const std::string &l : lines)
    said |= l.rfind("restored epoch " + std::to_string(r.bestEpoch) +
                        " (best val loss ",
                    0) == 0;
  EXPECT_TRUE(said);
  // The model now holds best.safetensors, and the test ran on it.
  Model best(&desc);
  loadCheckpoint(best, tmp.file("ckpt/best.safetensors"));
  EXPECT_EQ(params(model), params(best));
  EXPECT_EQ(model.getStepCount(), best.getStepCount());
  Trainer check(best, d, quiet());
  EXPECT_EQ(check.evaluate(d.test, 0, d.test.count, 16).values, r.test.values);
  // last.safetensors is still the last epoch, for --resume.
  SafetensorsFile last = readSafetensors(tmp.file("ckpt/last.safetensors"));
  EXPECT_EQ(*last.findMetadata("epoch"), std::to_string(r.epochs.back().epoch));
  EXPECT_EQ(*last.findMetadata("best_epoch"), std::to_string(r.bestEpoch));

  // Interrupted after the best epoch and resumed into another folder: the
  // same epochs, the same restored parameters, and a complete folder.
  Model first(&desc), second(&desc);
  o.checkpointDir = tmp.file("a");
  o.stopAfter = r.bestEpoch + 1;
  EXPECT_TRUE(Trainer(first, d, o).run().interrupted);
  o.stopAfter = 0;
  o.resumePath = tmp.file("a");
  o.checkpointDir = tmp.file("b");
  TrainReport resumed = Trainer(second, d, o).run();
  EXPECT_TRUE(resumed.stoppedEarly);
  EXPECT_TRUE(resumed.restoredBest);
  EXPECT_EQ(resumed.bestEpoch, r.bestEpoch);
  EXPECT_EQ(resumed.test.values, r.test.values);
  EXPECT_EQ(params(second), params(model));
  EXPECT_EQ(fileBytes(tmp.file("b/best.safetensors")),
            fileBytes(tmp.file("ckpt/best.safetensors")));
  EXPECT_EQ(fileBytes(tmp.file("b/last.safetensors")),
            fileBytes(tmp.file("ckpt/last.safetensors")));
  // Resuming a run that already stopped early trains nothing more.
  Model third(&desc);
  o.resumePath = tmp.file("b");
  o.checkpointDir = tmp.file("c");
  TrainReport again = Trainer(third, d, o).run();
  EXPECT_TRUE(again.stoppedEarly);
  EXPECT_EQ(again.epochs.size(), 0u);
  EXPECT_EQ(again.test.values, r.test.values);
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
