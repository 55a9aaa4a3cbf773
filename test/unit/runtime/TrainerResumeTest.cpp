//===- TrainerResumeTest.cpp - Resuming a run ---------------------------===//
//
// A resumed run ends with the same bits (and files) as an uninterrupted
// one; resuming with another batch size warns.
//
//===----------------------------------------------------------------------===//
#include "test/unit/runtime/TrainerFixture.h"

using namespace fm;
using namespace fm::test;

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
