//===- TrainerFixture.h - The training loop's test fixture ------*- C++ -*-===//
//
// The fixture the Trainer*Test.cpp files share: the hand-written
// linear-softmax model (LinearKernels.c) on a generated, separable data
// set whose size leaves a partial last batch.
//
//===----------------------------------------------------------------------===//
#ifndef FM_TEST_UNIT_RUNTIME_TRAINERFIXTURE_H
#define FM_TEST_UNIT_RUNTIME_TRAINERFIXTURE_H

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

namespace fm::test {

/// 4x4 "images" of 4 classes: the quadrant of the class is bright.
inline Split blobSplit(int64_t count, uint64_t seed) {
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

inline Dataset blobs() {
  Dataset d;
  d.name = "blobs";
  d.numClasses = 4;
  d.train = blobSplit(203, 1);
  d.test = blobSplit(50, 2);
  d.validate();
  return d;
}

/// Reads a whole file.
inline std::vector<uint8_t> fileBytes(const std::string &path) {
  return readBytes(path);
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

} // namespace fm::test

#endif // FM_TEST_UNIT_RUNTIME_TRAINERFIXTURE_H
