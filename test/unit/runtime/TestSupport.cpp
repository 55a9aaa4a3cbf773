//===- TestSupport.cpp - Helpers shared by the runtime tests ----*- C++ -*-===//
//
// This file implements the shared test helpers.
//
//===----------------------------------------------------------------------===//
#include "test/unit/runtime/TestSupport.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <zlib.h>

using namespace fm;
using namespace fm::test;

std::string fm::test::linearDescriptor(const LinearConfig &c) {
  int64_t d = 1;
  std::string shape;
  for (int64_t e : c.inputShape) {
    if (e > 0)
      d *= e;
    shape += (shape.empty() ? "" : ", ") + std::to_string(e);
  }
  std::string k = std::to_string(c.binary ? 1 : c.classes),
              ds = std::to_string(d);
  std::string labelDtype = c.binary ? "f32" : c.labelDtype;
  std::string labelShape = c.binary ? "-1, 1" : "-1";
  int lossGrad = c.binary ? 8 : 1, loss = c.binary ? 9 : 2,
      activation = c.binary ? 10 : 5;
  auto tensor = [](const std::string &name, const std::string &kind,
                   const std::string &dtype, const std::string &shape,
                   const std::string &init = "") {
    return "{\"name\": \"" + name + "\", \"kind\": \"" + kind +
           "\", \"dtype\": \"" + dtype + "\", \"shape\": [" + shape + "]" +
           (init.empty() ? "" : ", \"init\": " + init) + "}";
  };
  std::string zeros = R"({"kind": "zeros"})";
  std::vector<std::string> tensors = {
      tensor("x", "input", c.inputDtype, shape),    // 0
      tensor("y", "label", labelDtype, labelShape), // 1
      tensor("linear.weight", "param", "f32", ds + ", " + k,
             "{\"kind\": \"glorot_uniform\", \"args\": [], \"fan_in\": " + ds +
                 ", \"fan_out\": " + k + "}"),         // 2
      tensor("linear.bias", "param", "f32", k, zeros), // 3
      tensor("linear.weight.momentum", "state", "f32", ds + ", " + k,
             zeros),                                            // 4
      tensor("linear.bias.momentum", "state", "f32", k, zeros), // 5
      tensor("logits", "temp", "f32", "-1, " + k),              // 6
      tensor("loss", "temp", "f32", ""),                        // 7
      tensor("acc", "temp", "f32", ""),                         // 8
      tensor("dlogits", "temp", "f32", "-1, " + k),             // 9
      tensor("dW", "temp", "f32", ds + ", " + k),               // 10
      tensor("db", "temp", "f32", k),                           // 11
      tensor("probs", "temp", "f32", "-1, " + k)};              // 12
  std::string json =
      "{\"format\": \"fm-model\", \"version\": 1, \"model\": \"" + c.model +
      "\", \"source\": \"test\",\n \"tensors\": [\n";
  for (size_t i = 0; i < tensors.size(); ++i)
    json += (i ? ",\n  " : "  ") + tensors[i];
  auto t = [](int id) { return "{\"tensor\": " + std::to_string(id) + "}"; };
  std::string forward = "{\"kernel\": 0, \"args\": [" + t(0) + ", " + t(2) +
                        ", " + t(3) + ", " + t(6) + "]}";
  json += "],\n \"steps\": {\n  \"train_step\": {\"calls\": [" + forward +
          ", {\"kernel\": " + std::to_string(lossGrad) + ", \"args\": [" +
          t(6) + ", " + t(1) + ", " + t(7) + ", " + t(8) + ", " + t(9) +
          "]}, {\"kernel\": 3, \"args\": [" + t(0) + ", " + t(9) + ", " +
          t(10) + ", " + t(11) + "]}, {\"kernel\": 4, \"args\": [" + t(2) +
          ", " + t(4) + ", " + t(10) +
          R"(, {"scalar": "lr"}, {"scalar": "step"}, )" + t(2) + ", " + t(4) +
          "]}, {\"kernel\": 4, \"args\": [" + t(3) + ", " + t(5) + ", " +
          t(11) + R"(, {"scalar": "lr"}, {"scalar": "step"}, )" + t(3) + ", " +
          t(5) + "]}], \"results\": {\"loss\": 7, \"acc\": 8}},\n";
  json += "  \"evaluate\": {\"calls\": [" + forward +
          ", {\"kernel\": " + std::to_string(loss) + ", \"args\": [" + t(6) +
          ", " + t(1) + ", " + t(7) + ", " + t(8) +
          "]}], \"results\": {\"loss\": 7, \"acc\": 8}},\n";
  json += "  \"predict\": {\"calls\": [" + forward +
          ", {\"kernel\": " + std::to_string(activation) + ", \"args\": [" +
          t(6) + ", " + t(12) + "]}], \"results\": {\"probs\": 12}}},\n";
  json += " \"loss\": \"loss\", \"metrics\": [\"acc\"], \"outputs\": "
          "[\"probs\"],\n";
  json +=
      " \"train\": {\"data\": " + c.data +
      ", \"scale\": 0.00392156862745098, " +
      "\"validation\": " + std::to_string(c.validation) +
      ", \"optimizer\": {\"kind\": \"sgd\", \"lr\": " + std::to_string(c.lr) +
      ", \"momentum\": 0.9}, \"batch\": " + std::to_string(c.batch) +
      ", \"epochs\": " + std::to_string(c.epochs) +
      ", \"seed\": " + std::to_string(c.seed) + c.extraTrain + "}\n}\n";
  return json;
}

TempDir::TempDir() {
  const char *base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base && *base ? base : "/tmp") + "/fmrt-test-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw std::runtime_error("mkdtemp failed");
  dir = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::vector<uint8_t> fm::test::readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void fm::test::writeBytes(const std::string &path,
                          const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

void fm::test::writeGzip(const std::string &path,
                         const std::vector<uint8_t> &bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}
