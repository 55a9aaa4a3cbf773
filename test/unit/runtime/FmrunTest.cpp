//===- FmrunTest.cpp - Tests of the fmrun command-line tool ---------------===//
//
// Runs the fmrun binary: usage errors, model libraries that cannot be
// loaded, a short training run of libTestLinear.so on Fashion-MNIST
// followed by eval and predict from its checkpoint, and the .fm path
// through a stand-in fmc that checks the compile cache is reused.
//
//===----------------------------------------------------------------------===//
#include "test/unit/runtime/TestSupport.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>

using namespace fm::test;

namespace {
struct Result {
  int status;
  std::string output;
};

/// Runs a shell command, capturing stdout and stderr together.
Result shell(const std::string &command) {
  FILE *pipe = ::popen((command + " 2>&1").c_str(), "r");
  Result r{-1, ""};
  if (!pipe)
    return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    r.output.append(buf, n);
  int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// Runs fmrun with `args` (already shell-quoted where needed).
Result fmrun(const std::string &args, const std::string &env = "") {
  return shell(env + " " FMRUN_PATH " " + args);
}

bool haveNumpy() {
  return shell("/usr/bin/python3 -c 'import numpy'").status == 0;
}

bool haveFashionMnist() {
  struct stat st;
  return ::stat("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                &st) == 0;
}

/// The accuracy in a "test  loss L acc A" line.
double testAccuracy(const std::string &output) {
  size_t at = output.find("test  loss ");
  if (at == std::string::npos)
    return -1;
  size_t acc = output.find(" acc ", at);
  return acc == std::string::npos ? -1 : std::stod(output.substr(acc + 5));
}
} // namespace

#define EXPECT_CONTAINS(haystack, needle)                                      \
  EXPECT_NE((haystack).find(needle), std::string::npos)                        \
      << "output:\n"                                                           \
      << (haystack) << "\nexpected to contain: " << (needle)

TEST(FmrunTest, UsageErrorsExitWithTwo) {
  Result r = fmrun("");
  EXPECT_EQ(r.status, 2);
  EXPECT_CONTAINS(r.output, "missing command");
  r = fmrun("train");
  EXPECT_EQ(r.status, 2);
  EXPECT_CONTAINS(r.output, "missing MODEL");
  r = fmrun("fly libX.so");
  EXPECT_EQ(r.status, 2);
  EXPECT_CONTAINS(r.output, "unknown command 'fly'");
  r = fmrun("train libX.so --epochs abc");
  EXPECT_EQ(r.status, 2);
  EXPECT_CONTAINS(r.output, "--epochs expects an integer >= 0 but got 'abc'");
  r = fmrun("train libX.so --bogus 1");
  EXPECT_EQ(r.status, 2);
  EXPECT_CONTAINS(r.output, "unknown option '--bogus' for 'train'");
  r = fmrun("train libX.so --checkpoint x");
  EXPECT_EQ(r.status, 2);
  EXPECT_CONTAINS(r.output, "unknown option '--checkpoint' for 'train'");
  r = fmrun("eval libX.so --batch");
  EXPECT_EQ(r.status, 2);
  EXPECT_CONTAINS(r.output, "option '--batch' needs a value");
  r = fmrun("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_CONTAINS(r.output, "usage: fmrun");
}

TEST(FmrunTest, BadModelLibrariesAreClearErrors) {
  TempDir tmp;
  Result r = fmrun("train model.onnx");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(
      r.output,
      "expected a model library (lib<Name>.so) or a model source (.fm)");
  r = fmrun("train " + tmp.file("libMissing.so"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "cannot load model library");
  std::filesystem::copy_file(TEST_LINEAR_MODEL_PATH, tmp.file("libOther.so"));
  r = fmrun("train " + tmp.file("libOther.so"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "has no symbol 'fm_model_Other'");
}

TEST(FmrunTest, TrainsThenEvaluatesAndPredictsFromTheCheckpoint) {
  if (!haveFashionMnist())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  TempDir tmp;
  Result r = fmrun(
      std::string("train " TEST_LINEAR_MODEL_PATH) +
      " --limit 3000 --epochs 2 --batch 50 --threads 1 --checkpoint-dir " +
      tmp.file("ck") + " --log " + tmp.file("log.jsonl"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "model TestLinear: 7850 parameters");
  EXPECT_CONTAINS(r.output, "epoch 1/2  train loss ");
  EXPECT_CONTAINS(r.output, "epoch 2/2  train loss ");
  EXPECT_CONTAINS(r.output, "  val loss ");
  EXPECT_CONTAINS(r.output, "(10000 samples)");
  double trained = testAccuracy(r.output);
  EXPECT_GT(trained, 0.6) << r.output;
  std::ifstream log(tmp.file("log.jsonl"));
  int lines = 0;
  for (std::string l; std::getline(log, l);)
    ++lines;
  EXPECT_EQ(lines, 4); // start, 2 epochs, test

  std::string ckpt = tmp.file("ck/last.safetensors");
  r = fmrun(std::string("eval " TEST_LINEAR_MODEL_PATH " --checkpoint ") +
            ckpt);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "step 108"); // 2 epochs of 2700 / 50
  EXPECT_NEAR(testAccuracy(r.output), trained, 1e-4) << r.output;

  r = fmrun(std::string("predict " TEST_LINEAR_MODEL_PATH
                        " --count 5 --checkpoint ") +
            ckpt);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "sample 4: probs ");
  EXPECT_CONTAINS(r.output, "of 5 predicted correctly");

  // eval: per-class accuracy and the confusion matrix, on any split.
  r = fmrun(std::string("eval " TEST_LINEAR_MODEL_PATH " --checkpoint ") +
            ckpt + " --split validation --limit 3000");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "validation  loss ");
  EXPECT_CONTAINS(r.output, "(300 samples)");
  EXPECT_CONTAINS(r.output, "per-class accuracy (argmax of output 'probs' "
                            "over its last axis):");
  EXPECT_CONTAINS(r.output, "    all    ");
  EXPECT_CONTAINS(r.output, " / 300\n");
  EXPECT_CONTAINS(r.output,
                  "confusion matrix (rows: true class, columns: predicted "
                  "class):\n  true\\pred");
  r = fmrun(std::string("eval " TEST_LINEAR_MODEL_PATH " --split dev"));
  EXPECT_EQ(r.status, 2);
  EXPECT_CONTAINS(r.output,
                  "--split expects train, validation or test but got 'dev'");
  r = fmrun(std::string("eval " TEST_LINEAR_MODEL_PATH
                        " --split validation --validation 0 --checkpoint ") +
            ckpt);
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "there is no validation split");

  // predict --out: every sample of the split, as CSV and as .npy.
  r = fmrun(std::string("predict " TEST_LINEAR_MODEL_PATH " --checkpoint ") +
            ckpt + " --split train --limit 1000 --out " + tmp.file("p.csv"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "wrote " + tmp.file("p.csv") +
                                ": 900 train samples; probs f32[N, 10]");
  r = fmrun(std::string("predict " TEST_LINEAR_MODEL_PATH " --checkpoint ") +
            ckpt + " --split train --limit 1000 --out " + tmp.file("p.npy"));
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream csv(tmp.file("p.csv"));
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "probs[0],probs[1],probs[2],probs[3],probs[4],probs[5],"
                    "probs[6],probs[7],probs[8],probs[9]");
  if (haveNumpy()) {
    Result py =
        shell("/usr/bin/python3 -c \"import numpy as np; "
              "a = np.load('" +
              tmp.file("p.npy") +
              "'); "
              "t = np.loadtxt('" +
              tmp.file("p.csv") +
              "', delimiter=',', skiprows=1, dtype=np.float32); "
              "assert a.dtype == np.float32 and a.shape == (900, 10), a.shape; "
              "assert (a == t).all(); print('same values')\"");
    EXPECT_CONTAINS(py.output, "same values");
  }
  r = fmrun(std::string("predict " TEST_LINEAR_MODEL_PATH " --out ") +
            tmp.file("p.txt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "expected a file name ending in .csv or .npy");

  r = fmrun(std::string("eval " TEST_LINEAR_MODEL_PATH " --checkpoint ") +
            tmp.file("none"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "cannot open '" + tmp.file("none") + "'");
}

TEST(FmrunTest, CompilesFmSourcesOnceThroughTheCache) {
  if (!haveFashionMnist())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  TempDir tmp;
  // A stand-in fmc: logs its arguments and "compiles" by copying the test
  // model library into the -o folder.
  std::string fmc = tmp.file("fake-fmc");
  std::ofstream(fmc) << "#!/bin/sh\n"
                        "echo \"$@\" >> "
                     << tmp.file("fmc.log")
                     << "\n"
                        "[ \"$1\" = --shared ] || exit 9\n"
                        "grep -q broken \"$2\" && { echo 'model.fm:1:1: error: "
                        "broken' >&2; exit 3; }\n"
                        "cp " TEST_LINEAR_MODEL_PATH
                        " \"$4/libTestLinear.so\"\n";
  std::filesystem::permissions(fmc, std::filesystem::perms::owner_all);
  std::ofstream(tmp.file("model.fm"))
      << "model TestLinear {}\ntrain TestLinear {}\n";
  std::string env = "XDG_CACHE_HOME=" + tmp.file("cache");
  std::string args =
      "predict " + tmp.file("model.fm") + " --count 1 --fmc " + fmc;

  Result r = fmrun(args, env);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "compiling");
  r = fmrun(args, env);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("compiling"), std::string::npos)
      << "cache not reused";
  std::ifstream in(tmp.file("fmc.log"));
  std::string first, second;
  std::getline(in, first);
  EXPECT_FALSE(std::getline(in, second));
  EXPECT_EQ(first.rfind("--shared " + tmp.file("model.fm") + " -o " +
                            tmp.file("cache/fm/"),
                        0),
            0u)
      << first;

  // Different compile flags are a different cache entry.
  r = fmrun(args + " --schedule adams2019", env);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "compiling");

  std::ofstream(tmp.file("model.fm")) << "model TestLinear { broken }\n";
  r = fmrun(args, env);
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "model.fm:1:1: error: broken");
  EXPECT_CONTAINS(r.output, "fmc failed to compile '" + tmp.file("model.fm") +
                                "' (exit status 3)");
}

TEST(FmrunTest, InterruptedThenResumedFromTheFolderMatchesOneRun) {
  if (!haveFashionMnist())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  TempDir tmp;
  std::string common = std::string("train " TEST_LINEAR_MODEL_PATH) +
                       " --limit 2000 --epochs 3 --batch 64 --threads 1";
  Result r = fmrun(common + " --checkpoint-dir " + tmp.file("one"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = fmrun(common + " --checkpoint-dir " + tmp.file("two") +
            " --stop-after 1");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "stopped after 1 of 3 epochs as asked; continue "
                            "with --resume " +
                                tmp.file("two"));
  EXPECT_EQ(r.output.find("test  loss"), std::string::npos) << r.output;
  r = fmrun(common + " --checkpoint-dir " + tmp.file("two") + " --resume " +
            tmp.file("two"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("epoch 1/3"), std::string::npos) << r.output;
  EXPECT_CONTAINS(r.output, "epoch 2/3");
  EXPECT_CONTAINS(r.output, "test  loss");
  EXPECT_EQ(readBytes(tmp.file("one/last.safetensors")),
            readBytes(tmp.file("two/last.safetensors")));
  r = fmrun(common + " --resume " + tmp.file("none"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "cannot open '" + tmp.file("none") + "'");
  r = fmrun(common + " --resume " + tmp.path());
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "no checkpoint to resume from in folder");
}

TEST(FmrunTest, CsvDataAndABinaryModel) {
  // libTestMoons.so: sigmoid binary cross-entropy, label f32[N, 1], on the
  // shipped two-moons CSV files.
  TempDir tmp;
  Result r = fmrun(std::string("train " TEST_MOONS_MODEL_PATH
                               " --threads 1 --checkpoint-dir ") +
                   tmp.file("ck"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "model TestMoons: 3 parameters; data " +
                                std::string(FM_SOURCE_DIR_FOR_TESTS) +
                                "/examples/data/moons_train.csv: 2000 train, "
                                "500 test samples");
  EXPECT_CONTAINS(r.output, "epoch 4/4");
  EXPECT_GT(testAccuracy(r.output), 0.8) << r.output;
  std::string ckpt = tmp.file("ck/best.safetensors");
  r = fmrun(std::string("eval " TEST_MOONS_MODEL_PATH " --checkpoint ") + ckpt);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "(500 samples)");
  EXPECT_CONTAINS(r.output, "per-class accuracy and confusion matrix: not "
                            "applicable (label 'y' is f32[N, 1], not integer "
                            "class ids)");
  r = fmrun(std::string("predict " TEST_MOONS_MODEL_PATH " --checkpoint ") +
            ckpt + " --out " + tmp.file("p.npy"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "500 test samples; probs f32[N, 1]");
  if (haveNumpy()) {
    Result py =
        shell("/usr/bin/python3 -c \"import numpy as np; "
              "p = np.load('" +
              tmp.file("p.npy") +
              "'); "
              "t = np.loadtxt('" FM_SOURCE_DIR_FOR_TESTS
              "/examples/data/moons_test.csv', delimiter=',', skiprows=1); "
              "assert p.shape == (500, 1) and ((p >= 0) & (p <= 1)).all(); "
              "print('accuracy %.3f' % ((p[:, 0] > 0.5) == t[:, 2]).mean())\"");
    size_t at = py.output.find("accuracy ");
    ASSERT_NE(at, std::string::npos) << py.output;
    EXPECT_GT(std::stod(py.output.substr(at + 9)), 0.8) << py.output;
  }
}
