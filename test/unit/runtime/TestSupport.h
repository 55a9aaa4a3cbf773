//===- TestSupport.h - Helpers shared by the runtime tests ------*- C++ -*-===//
//
// This file declares what several runtime tests need: a descriptor for the
// hand-written linear-softmax model (LinearKernels.h), temporary folders,
// file helpers and an assertion that a call throws an fm::Error whose
// message contains a given text.
//
//===----------------------------------------------------------------------===//
#ifndef FM_TEST_RUNTIME_TESTSUPPORT_H
#define FM_TEST_RUNTIME_TESTSUPPORT_H

#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fm {
namespace test {

/// The linear-softmax model's descriptor, parameterised.
struct LinearConfig {
  std::string model = "Linear";
  std::vector<int64_t> inputShape = {-1, 16}; // -1 first: the batch
  std::string inputDtype = "f32";
  std::string labelDtype = "i32";
  int64_t classes = 4;
  int64_t batch = 16, epochs = 3;
  double lr = 0.1, validation = 0;
  uint64_t seed = 1;
  std::string data = R"({"kind": "fashion_mnist"})";
  std::string extraTrain; // appended to the train object, e.g. ", \"x\": 1"
  /// A binary classifier instead: one logit, label f32[N, 1], sigmoid
  /// binary cross-entropy, output probs = sigmoid(logit) of shape [N, 1]
  /// (`classes` and `labelDtype` are ignored).
  bool binary = false;
};
std::string linearDescriptor(const LinearConfig &config);

/// A fresh folder under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string &path() const { return dir; }
  std::string file(const std::string &name) const { return dir + "/" + name; }

private:
  std::string dir;
};

std::vector<uint8_t> readBytes(const std::string &path);
void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes);
void writeGzip(const std::string &path, const std::vector<uint8_t> &bytes);

} // namespace test
} // namespace fm

/// Asserts that `statement` throws fm::Error with `text` in its message.
#define EXPECT_FM_ERROR(statement, text)                                       \
  do {                                                                         \
    try {                                                                      \
      statement;                                                               \
      ADD_FAILURE() << "expected an fm::Error containing \"" << (text)         \
                    << "\" but nothing was thrown";                            \
    } catch (const ::fm::Error &e) {                                           \
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos)           \
          << "message: " << e.what() << "\nexpected to contain: " << (text);   \
    }                                                                          \
  } while (0)

#endif // FM_TEST_RUNTIME_TESTSUPPORT_H
