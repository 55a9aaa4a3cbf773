//===- FuzzTest.cpp - Robustness tests for the fm front end ---------------===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file feeds the lexer and parser random bytes, random token soup and
// randomly mutated valid programs, and checks that they always terminate
// without crashing, that a failed parse reported at least one error, and
// that a successful one can be dumped. Seeds are fixed so failures replay.
//
//===----------------------------------------------------------------------===//

#include "frontend/Parser.h"

#include "gtest/gtest.h"

#include <random>

using namespace fm;

namespace {

const char *const kValidPrograms[] = {
    R"(// The classic three-conv CNN, on Fashion-MNIST.
model FashionCNN {
  input x: f32[N, 1, 28, 28]
  label y: i32[N]
  h = conv2d(x, 32, kernel=3) |> relu |> maxpool2d(2)
  h = flatten(h) |> dense(128) |> relu
  logits = dense(h, 10)
  loss cross_entropy(logits, y)
  output probs = softmax(logits)
  metric acc = accuracy(logits, y)
}
train FashionCNN {
  data = fashion_mnist()
  validation = 0.1
  optimizer = adam(lr=1e-3)
  scale = 1/255
  normalize = [[0.5], [.25]]
  seed = 42
}
)",
    R"(fn residual(x, channels) {
  h = conv2d(x, channels, kernel=3, padding="same") |> batch_norm |> relu
  param g: f32[1] = constant(-1)
  return relu(h + x * g)
}
model R {
  input x: f32[N, 8, 4, 4]
  h = residual(x, 8)
    |> residual(8)
  loss total = mean(h @ h - 1) + (h < 0 == false) / 2
}
)"};

/// Parses `source`; checks the invariants every input must satisfy.
void parseAndCheck(llvm::StringRef source) {
  llvm::SourceMgr sourceMgr;
  std::string errors;
  llvm::raw_string_ostream os(errors);
  DiagnosticEngine diag(sourceMgr, os);
  diag.setErrorLimit(100);
  std::unique_ptr<ModuleAST> module =
      parseSource(source, "fuzz.fm", sourceMgr, diag);
  if (module) {
    EXPECT_EQ(diag.getErrorCount(), 0u);
    std::string dump;
    llvm::raw_string_ostream dumpStream(dump);
    module->dump(dumpStream);
    EXPECT_FALSE(dumpStream.str().empty());
  } else {
    EXPECT_GT(diag.getErrorCount(), 0u);
    EXPECT_NE(os.str().find("error: "), std::string::npos);
  }
}

TEST(FuzzTest, ValidProgramsParse) {
  for (const char *program : kValidPrograms) {
    llvm::SourceMgr sourceMgr;
    std::string errors;
    llvm::raw_string_ostream os(errors);
    DiagnosticEngine diag(sourceMgr, os);
    EXPECT_TRUE(parseSource(program, "valid.fm", sourceMgr, diag)) << errors;
  }
}

TEST(FuzzTest, RandomBytes) {
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    std::string source(rng() % 300, '\0');
    for (char &c : source)
      c = char(rng() % 256);
    parseAndCheck(source);
  }
}

TEST(FuzzTest, RandomTokenSoup) {
  static const char *const pieces[] = {
      "model",  "train",  "fn",   "input", "label", "param", "loss", "output",
      "metric", "return", "true", "false", "x",     "f32",   "N",    "relu",
      "42",     "1e-3",   ".5",   "\"s\"", "\"",    "(",     ")",    "[",
      "]",      "{",      "}",    ",",     ":",     "=",     "==",   "+",
      "-",      "*",      "/",    "@",     "<",     "<=",    "!=",   "|>",
      "\n",     "\n",     "\n",   " ",     "//c\n", "$",     "|",    "!"};
  std::mt19937 rng(2);
  for (int i = 0; i < 3000; ++i) {
    std::string source;
    for (unsigned n = rng() % 80; n > 0; --n) {
      source += pieces[rng() % std::size(pieces)];
      source += ' ';
    }
    parseAndCheck(source);
  }
}

TEST(FuzzTest, MutatedPrograms) {
  std::mt19937 rng(3);
  static const char alphabet[] = "(){}[],:=+-*/@<>!|\"\\ \n\t.e0123xN_";
  for (int i = 0; i < 3000; ++i) {
    std::string source = kValidPrograms[i % std::size(kValidPrograms)];
    for (unsigned edits = 1 + rng() % 4; edits > 0; --edits) {
      size_t pos = rng() % (source.size() + 1);
      switch (rng() % 4) {
      case 0: // delete a span
        source.erase(pos, rng() % 8);
        break;
      case 1: // insert a character
        source.insert(pos, 1, alphabet[rng() % (sizeof(alphabet) - 1)]);
        break;
      case 2: // duplicate a span
        if (!source.empty())
          source.insert(pos, source.substr(rng() % source.size(), rng() % 16));
        break;
      default: // truncate
        source.resize(pos);
        break;
      }
    }
    parseAndCheck(source);
  }
}

TEST(FuzzTest, PathologicalInputs) {
  const size_t n = 200000;
  const std::string model = "model M {\n  h = ";
  parseAndCheck(model + std::string(n, '(') + "x" + std::string(n, ')') +
                "\n}");
  parseAndCheck(model + std::string(n, '(')); // never closed
  parseAndCheck(model + std::string(n, '['));
  parseAndCheck(std::string(n, ')') + std::string(n, '}'));
  parseAndCheck(model + std::string(n, '-') + "x\n}");
  std::string chain = model + "x";
  for (size_t i = 0; i < n / 4; ++i)
    chain += " |> relu";
  parseAndCheck(chain + "\n}");
  std::string args = model + "f(";
  for (size_t i = 0; i < n / 4; ++i)
    args += "x, ";
  parseAndCheck(args + "x)\n}");
  parseAndCheck(std::string(n, '\n') + "  |> x"); // blank lines before a pipe
  parseAndCheck(std::string(n, '"'));
  parseAndCheck(std::string(n, '$'));
  parseAndCheck(std::string("model M {\n  h = \"\\") + std::string(n, '\\'));
  parseAndCheck(std::string(n, '9') + "e" + std::string(n, '9'));
  parseAndCheck("model M { input x: f32[" + std::string(n, '9') + "] }");
  std::string manyModels;
  for (int i = 0; i < 5000; ++i)
    manyModels += "model {\n";
  parseAndCheck(manyModels);
}

} // namespace
