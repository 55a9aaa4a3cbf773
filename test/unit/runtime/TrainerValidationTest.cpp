//===- TrainerValidationTest.cpp - Overfitting and early stop -----------===//
//
// Overfitting made visible: the flags of a widening train/validation gap,
// and early stopping restoring the best epoch before the test split.
//
//===----------------------------------------------------------------------===//
#include "test/unit/runtime/TrainerFixture.h"

using namespace fm;
using namespace fm::test;

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
