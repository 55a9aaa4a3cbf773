//===- ParserTest.cpp - Tests for the fm parser and AST -------------------===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file tests the AST the parser builds: pipe desugaring, precedence,
// literals, statements and definitions, and error recovery.
//
//===----------------------------------------------------------------------===//

#include "frontend/Parser.h"

#include "gtest/gtest.h"

using namespace fm;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

namespace {

/// Parses `source` and keeps the diagnostics.
struct Parsed {
  explicit Parsed(llvm::StringRef source) : diag(sourceMgr, os) {
    module = parseSource(source, "test.fm", sourceMgr, diag);
  }
  /// The value of the first statement of the first model or fn.
  const ExprAST &firstValue() const {
    const TopLevelAST &def = *module->getDefinitions().front();
    const StmtAST &stmt = isa<ModelAST>(def)
                              ? *cast<ModelAST>(def).getBody().front()
                              : *cast<FunctionAST>(def).getBody().front();
    if (auto *assign = dyn_cast<AssignStmtAST>(&stmt))
      return assign->getValue();
    return cast<ReturnStmtAST>(stmt).getValue();
  }

  llvm::SourceMgr sourceMgr;
  std::string errors;
  llvm::raw_string_ostream os{errors};
  DiagnosticEngine diag;
  std::unique_ptr<ModuleAST> module;
};

/// Parses `model M {\n  v = EXPR\n}` and returns EXPR printed as a
/// fully parenthesized string.
std::string expr(llvm::StringRef text);

/// Prints an expression fully parenthesized, e.g. `relu((a + b))`.
void print(const ExprAST &e, std::string &out) {
  if (auto *n = dyn_cast<NumberExprAST>(&e)) {
    out += n->isInteger() ? std::to_string(n->getIntValue())
                          : std::to_string(n->getValue());
  } else if (auto *s = dyn_cast<StringExprAST>(&e)) {
    out += "\"" + s->getValue().str() + "\"";
  } else if (auto *b = dyn_cast<BoolExprAST>(&e)) {
    out += b->getValue() ? "true" : "false";
  } else if (auto *name = dyn_cast<NameExprAST>(&e)) {
    out += name->getName().str();
  } else if (auto *neg = dyn_cast<NegExprAST>(&e)) {
    out += "(-";
    print(neg->getOperand(), out);
    out += ")";
  } else if (auto *bin = dyn_cast<BinaryExprAST>(&e)) {
    out += "(";
    print(bin->getLHS(), out);
    out += " " + getBinaryOpSpelling(bin->getOp()).str() + " ";
    print(bin->getRHS(), out);
    out += ")";
  } else if (auto *call = dyn_cast<CallExprAST>(&e)) {
    out += call->getCallee().str() + "(";
    bool first = true;
    for (const ExprPtr &arg : call->getArgs()) {
      out += first ? "" : ", ";
      first = false;
      print(*arg, out);
    }
    for (const KeywordArgAST &arg : call->getKeywordArgs()) {
      out += first ? "" : ", ";
      first = false;
      out += arg.name + "=";
      print(*arg.value, out);
    }
    out += ")";
  } else {
    out += "[";
    bool first = true;
    for (const ExprPtr &element : cast<ListExprAST>(e).getElements()) {
      out += first ? "" : ", ";
      first = false;
      print(*element, out);
    }
    out += "]";
  }
}

std::string expr(llvm::StringRef text) {
  Parsed parsed(("model M {\n  v = " + text + "\n}").str());
  if (!parsed.module)
    return "<error> " + parsed.errors;
  std::string out;
  print(parsed.firstValue(), out);
  return out;
}

TEST(ParserTest, PipesDesugarToCalls) {
  EXPECT_EQ(expr("x |> relu"), "relu(x)");
  EXPECT_EQ(expr("x |> f(b, k=v)"), "f(x, b, k=v)");
  EXPECT_EQ(expr("x |> f |> g(1)"), "g(f(x), 1)");
  EXPECT_EQ(expr("a + b |> relu"), "relu((a + b))");
  EXPECT_EQ(expr("a < b |> f"), "f((a < b))");
  EXPECT_EQ(expr("f(x |> g, y)"), "f(g(x), y)");
  EXPECT_EQ(expr("x\n    |> relu\n    |> softmax(axis=1)"),
            "softmax(relu(x), axis=1)");
}

TEST(ParserTest, Precedence) {
  EXPECT_EQ(expr("a + b * c"), "(a + (b * c))");
  EXPECT_EQ(expr("a @ b + c"), "((a @ b) + c)");
  EXPECT_EQ(expr("a - b - c"), "((a - b) - c)");
  EXPECT_EQ(expr("a / b * c"), "((a / b) * c)");
  EXPECT_EQ(expr("a + b == c * d"), "((a + b) == (c * d))");
  EXPECT_EQ(expr("a < b != c >= d"), "(((a < b) != c) >= d)");
  EXPECT_EQ(expr("-a @ b"), "((-a) @ b)");
  EXPECT_EQ(expr("-(a + b)"), "(-(a + b))");
  EXPECT_EQ(expr("(a + b) * c"), "((a + b) * c)");
  EXPECT_EQ(expr("1/255"), "(1 / 255)");
}

TEST(ParserTest, Literals) {
  EXPECT_EQ(expr("-1"), "-1");
  EXPECT_EQ(expr("--1"), "1");
  EXPECT_EQ(expr("[1, \"s\", true, false, []]"), "[1, \"s\", true, false, []]");

  Parsed parsed("model M {\n  a = 3\n  b = 3.0\n  c = -.5\n}");
  ASSERT_TRUE(parsed.module) << parsed.errors;
  auto body = cast<ModelAST>(*parsed.module->getDefinitions()[0]).getBody();
  auto number = [&](unsigned i) {
    return cast<NumberExprAST>(&cast<AssignStmtAST>(*body[i]).getValue());
  };
  EXPECT_TRUE(number(0)->isInteger());
  EXPECT_EQ(number(0)->getIntValue(), 3);
  EXPECT_FALSE(number(1)->isInteger());
  EXPECT_DOUBLE_EQ(number(1)->getValue(), 3.0);
  EXPECT_DOUBLE_EQ(number(2)->getValue(), -0.5);
  // A folded negative literal is located at its '-'.
  EXPECT_EQ(number(2)->getLoc().col, 7u);
}

TEST(ParserTest, CallsAndKeywordArguments) {
  EXPECT_EQ(expr("f()"), "f()");
  EXPECT_EQ(expr("conv2d(x, 32, kernel=3, padding=\"same\")"),
            "conv2d(x, 32, kernel=3, padding=\"same\")");
  // Keywords may name keyword arguments.
  EXPECT_EQ(expr("csv(a, b, label=\"y\")"), "csv(a, b, label=\"y\")");
  Parsed parsed("model M {\n  v = f(a, k=1, j=[2])\n}");
  ASSERT_TRUE(parsed.module);
  auto &call = cast<CallExprAST>(parsed.firstValue());
  EXPECT_EQ(call.getArgs().size(), 1u);
  EXPECT_TRUE(call.getKeywordArg("k"));
  EXPECT_TRUE(isa<ListExprAST>(call.getKeywordArg("j")));
  EXPECT_FALSE(call.getKeywordArg("missing"));
  EXPECT_EQ(call.getLoc().line, 2u);
  EXPECT_EQ(call.getLoc().col, 7u);
}

TEST(ParserTest, Statements) {
  Parsed parsed(R"(model M {
  input x: f32[N, 784]
  label y: i32[N]
  param w: f32[784, 10] = normal(0.01)
  param s: f32[] = zeros
  h = x @ w
  loss cross_entropy(h, y)
  output p = softmax(h)
  metric a = accuracy(h, y)
}
model L {
  input x: f32[N]
  loss total = sum(x)
})");
  ASSERT_TRUE(parsed.module) << parsed.errors;
  const ModelAST *m = parsed.module->lookupModel("M");
  ASSERT_TRUE(m);
  auto body = m->getBody();
  ASSERT_EQ(body.size(), 8u);
  auto *x = cast<InputStmtAST>(body[0].get());
  EXPECT_FALSE(x->isLabel());
  EXPECT_EQ(x->getName(), "x");
  EXPECT_EQ(x->getType().elementType, ElementType::F32);
  ASSERT_EQ(x->getType().dims.size(), 2u);
  EXPECT_TRUE(x->getType().dims[0].isSymbolic());
  EXPECT_EQ(x->getType().dims[0].symbol, "N");
  EXPECT_EQ(x->getType().dims[1].extent, 784);
  EXPECT_TRUE(cast<InputStmtAST>(body[1].get())->isLabel());
  auto *w = cast<ParamStmtAST>(body[2].get());
  EXPECT_TRUE(isa<CallExprAST>(w->getInit()));
  EXPECT_TRUE(cast<ParamStmtAST>(body[3].get())->getType().isScalar());
  EXPECT_TRUE(isa<AssignStmtAST>(body[4].get()));
  EXPECT_FALSE(cast<LossStmtAST>(body[5].get())->hasName());
  EXPECT_FALSE(cast<ResultStmtAST>(body[6].get())->isMetric());
  EXPECT_TRUE(cast<ResultStmtAST>(body[7].get())->isMetric());
  auto *loss =
      cast<LossStmtAST>(parsed.module->lookupModel("L")->getBody()[1].get());
  EXPECT_EQ(loss->getName(), "total");
}

TEST(ParserTest, FunctionsAndTrainBlocks) {
  Parsed parsed(R"(fn block(x, c) {
  h = conv2d(x, c, kernel=3)
  return relu(h)
}
train M {
  optimizer = adam(lr=1e-3)
  batch = 64
  batch = 128
})");
  ASSERT_TRUE(parsed.module) << parsed.errors;
  const FunctionAST *fn = parsed.module->lookupFunction("block");
  ASSERT_TRUE(fn);
  ASSERT_EQ(fn->getParams().size(), 2u);
  EXPECT_EQ(fn->getParams()[1].name, "c");
  EXPECT_TRUE(isa<ReturnStmtAST>(fn->getBody()[1].get()));
  const TrainAST *train = parsed.module->lookupTrain("M");
  ASSERT_TRUE(train);
  EXPECT_EQ(train->getEntries().size(), 3u);
  // The last of repeated keys wins.
  EXPECT_EQ(cast<NumberExprAST>(train->getEntry("batch"))->getIntValue(), 128);
  EXPECT_FALSE(train->getEntry("seed"));
  EXPECT_FALSE(parsed.module->lookupModel("M"));
}

TEST(ParserTest, EmptyInputs) {
  for (const char *source : {"", "\n\n", "// c", "  \t\r\n"}) {
    Parsed parsed(source);
    ASSERT_TRUE(parsed.module) << parsed.errors;
    EXPECT_TRUE(parsed.module->getDefinitions().empty());
  }
  Parsed emptyBody("model M {}\nfn f() {\n}\ntrain M {}");
  ASSERT_TRUE(emptyBody.module) << emptyBody.errors;
  EXPECT_EQ(emptyBody.module->getDefinitions().size(), 3u);
}

TEST(ParserTest, ReportsEveryErrorInOneRun) {
  Parsed parsed(R"(model M {
  a = (1
  b = 2
  c = )
  d = 3 4
  e = f(k=1, 2)
}
train M {
  seed
}
junk
fn f(a a) {
  return [1 2]
})");
  EXPECT_FALSE(parsed.module);
  EXPECT_EQ(parsed.diag.getErrorCount(), 8u) << parsed.errors;
}

TEST(ParserTest, DepthIsBounded) {
  // Exactly at the limit parses; one more level is an error.
  unsigned limit = Parser::kMaxExprDepth;
  std::string ok =
      std::string(limit - 1, '(') + "x" + std::string(limit - 1, ')');
  EXPECT_EQ(expr(ok), "x");
  std::string tooDeep = std::string(limit, '(') + "x" + std::string(limit, ')');
  EXPECT_NE(expr(tooDeep).find("nested too deeply"), std::string::npos);

  std::string chain = "x";
  for (unsigned i = 0; i < limit + 10; ++i)
    chain += " + x";
  EXPECT_NE(expr(chain).find("nested too deeply"), std::string::npos);
}

TEST(ParserTest, Dump) {
  Parsed parsed("model M {\n  input x: f32[N]\n  y = x |> relu\n}");
  ASSERT_TRUE(parsed.module);
  std::string text;
  llvm::raw_string_ostream os(text);
  parsed.module->dump(os);
  EXPECT_EQ(os.str(), "Module \"test.fm\"\n"
                      "  Model M @1:1\n"
                      "    Input x: f32[N] @2:3\n"
                      "    Assign y @3:3\n"
                      "      Call relu @3:12\n"
                      "        Name x @3:7\n");
}

} // namespace
