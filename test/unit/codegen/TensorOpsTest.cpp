//===- TensorOpsTest.cpp - Lowerings of the tensor ops ----------*- C++ -*-===//
//
// The ops of ir/FmTensorOps.td against double-precision loops, in f32 and
// f64, for batch extents 1, 3, 64 and 65, under the hand schedule and the
// all-root one: max/min reductions, argmax with ties, erf, concat, slice,
// pad, gather and scatter_add with ids at and past the ends of the table,
// and dropout (the exact mask of the documented hash, its statistics, its
// dependence on seed and salt only). The shape rules' diagnostics are in
// test/ir/tensor-invalid.mlir.
//
//===----------------------------------------------------------------------===//
#include "KernelCheck.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace fm::test;

namespace {

/// A kernel `@k(args) -> result` around `body` (which defines %r).
std::string kernel(const std::string &args, const std::string &result,
                   const std::string &body) {
  return "func.func private @k(" + args + ") -> " + result +
         " attributes {fm.kernel} {\n" + body + "\n  return %r : " + result +
         "\n}\n";
}

/// checkKernel at batch 1, 3, 64 and 65, under both schedules.
void check(const std::string &src, const std::vector<ArgGen> &args,
           const Reference &reference) {
  for (fm::ScheduleKind kind :
       {fm::ScheduleKind::Hand, fm::ScheduleKind::Root}) {
    SCOPED_TRACE(kind == fm::ScheduleKind::Hand ? "hand" : "root");
    CheckOptions options;
    options.batches = {1, 3, 64, 65};
    options.schedule = kind;
    checkKernel(src, args, reference, options);
  }
}

/// Integers in [lo, hi) stored as floats: many ties.
ArgGen smallInts(std::vector<int64_t> shape, int lo, int hi) {
  return [=](int batch, std::mt19937 &rng) {
    Host h = randomInts(withBatch(shape, batch), rng, hi - lo);
    for (double &v : h.data)
      v += lo;
    return h;
  };
}

/// Reduces `x` over `axes` with `fn`, keeping the reduced axes as 1.
Host foldHost(const Host &x, const std::vector<int64_t> &axes, double init,
              const std::function<double(double, double)> &fn) {
  std::vector<int64_t> kept = x.shape;
  for (int64_t a : axes)
    kept[a] = 1;
  Host out(kept);
  std::fill(out.data.begin(), out.data.end(), init);
  for (const auto &i : allIndices(x.shape)) {
    std::vector<int64_t> o = i;
    for (int64_t a : axes)
      o[a] = 0;
    int64_t flat = 0;
    for (size_t a = 0; a < o.size(); ++a)
      flat = flat * kept[a] + o[a];
    out[flat] = fn(out[flat], x.at(i));
  }
  return out;
}

/// `h` with its shape replaced (same elements).
Host reshaped(Host h, std::vector<int64_t> shape) {
  h.shape = std::move(shape);
  return h;
}

} // namespace

//===----------------------------------------------------------------------===//
// Reductions and argmax
//===----------------------------------------------------------------------===//

TEST(TensorOpsTest, ReduceMaxMin) {
  const double inf = std::numeric_limits<double>::infinity();
  auto max = [](double a, double b) { return std::max(a, b); };
  auto min = [](double a, double b) { return std::min(a, b); };
  check(kernel("%a: tensor<?x5x3xf32>", "tensor<?x3xf32>",
               "  %r = fm.reduce_max %a {axes = array<i64: 1>} : "
               "tensor<?x5x3xf32> -> tensor<?x3xf32>"),
        {uniform({-1, 5, 3})}, [&](const std::vector<Host> &x) {
          Host m = foldHost(x[0], {1}, -inf, max);
          return std::vector<Host>{reshaped(m, {x[0].shape[0], 3})};
        });
  check(kernel("%a: tensor<?x5x3xf32>", "tensor<1x5x1xf32>",
               "  %r = fm.reduce_min %a {axes = array<i64: 0, 2>, keepdims = "
               "true} : tensor<?x5x3xf32> -> tensor<1x5x1xf32>"),
        {uniform({-1, 5, 3})}, [&](const std::vector<Host> &x) {
          return std::vector<Host>{foldHost(x[0], {0, 2}, inf, min)};
        });
  check(kernel("%a: tensor<?x37xf32>", "tensor<?xf32>",
               "  %r = fm.reduce_max %a {axes = array<i64: 1>} : "
               "tensor<?x37xf32> -> tensor<?xf32>"),
        {uniform({-1, 37}, -100, -50)}, [&](const std::vector<Host> &x) {
          Host m = foldHost(x[0], {1}, -inf, max);
          return std::vector<Host>{reshaped(m, {x[0].shape[0]})};
        });
  check(kernel("%a: tensor<?x4xf32>", "tensor<f32>",
               "  %r = fm.reduce_min %a {axes = array<i64: 0, 1>} : "
               "tensor<?x4xf32> -> tensor<f32>"),
        {uniform({-1, 4}, 10, 20)}, [&](const std::vector<Host> &x) {
          return std::vector<Host>{
              reshaped(foldHost(x[0], {0, 1}, inf, min), {})};
        });
}

static Host argmaxHost(const Host &x, size_t axis);

TEST(TensorOpsTest, LargeReductions) {
  // 16500 results: vectorised and parallel in the hand schedule.
  const double inf = std::numeric_limits<double>::infinity();
  check(kernel("%a: tensor<?x16500xf32>", "tensor<16500xf32>",
               "  %r = fm.reduce_max %a {axes = array<i64: 0>} : "
               "tensor<?x16500xf32> -> tensor<16500xf32>"),
        {uniform({-1, 16500})}, [&](const std::vector<Host> &x) {
          Host m = foldHost(x[0], {0}, -inf,
                            [](double a, double b) { return std::max(a, b); });
          return std::vector<Host>{reshaped(m, {16500})};
        });
  check(kernel("%a: tensor<?x16500xf32>", "tensor<16500xi32>",
               "  %r = fm.argmax %a {axis = 0 : i64} : tensor<?x16500xf32> -> "
               "tensor<16500xi32>"),
        {smallInts({-1, 16500}, 0, 4)}, [&](const std::vector<Host> &x) {
          return std::vector<Host>{argmaxHost(x[0], 0)};
        });
}

/// The first index of the maximum along `axis`.
static Host argmaxHost(const Host &x, size_t axis) {
  std::vector<int64_t> shape = x.shape;
  shape.erase(shape.begin() + axis);
  Host out(shape);
  Host best(shape);
  std::fill(best.data.begin(), best.data.end(),
            -std::numeric_limits<double>::infinity());
  for (const auto &i : allIndices(x.shape)) {
    std::vector<int64_t> o = i;
    o.erase(o.begin() + axis);
    int64_t flat = 0;
    for (size_t a = 0; a < o.size(); ++a)
      flat = flat * shape[a] + o[a];
    if (x.at(i) > best[flat]) { // strict: the first maximum stays
      best[flat] = x.at(i);
      out[flat] = i[axis];
    }
  }
  return out;
}

TEST(TensorOpsTest, ArgMaxTies) {
  // Values in {-2, -1, 0}: most rows have tied maxima, some all equal.
  check(kernel("%a: tensor<?x7xf32>", "tensor<?xi32>",
               "  %r = fm.argmax %a {axis = 1 : i64} : tensor<?x7xf32> -> "
               "tensor<?xi32>"),
        {smallInts({-1, 7}, -2, 1)}, [](const std::vector<Host> &x) {
          return std::vector<Host>{argmaxHost(x[0], 1)};
        });
  check(kernel("%a: tensor<?x7xf32>", "tensor<7xi32>",
               "  %r = fm.argmax %a {axis = 0 : i64} : tensor<?x7xf32> -> "
               "tensor<7xi32>"),
        {smallInts({-1, 7}, -2, 1)}, [](const std::vector<Host> &x) {
          return std::vector<Host>{argmaxHost(x[0], 0)};
        });
  // Integer input (the f64 run rewrites nothing here).
  check(kernel("%a: tensor<?x5xi32>", "tensor<?xi32>",
               "  %r = fm.argmax %a {axis = 1 : i64} : tensor<?x5xi32> -> "
               "tensor<?xi32>"),
        {smallInts({-1, 5}, 0, 3)}, [](const std::vector<Host> &x) {
          return std::vector<Host>{argmaxHost(x[0], 1)};
        });
  check(kernel("%a: tensor<?x4x3xf32>", "tensor<?x3xi32>",
               "  %r = fm.argmax %a {axis = 1 : i64} : tensor<?x4x3xf32> -> "
               "tensor<?x3xi32>"),
        {smallInts({-1, 4, 3}, 0, 3)}, [](const std::vector<Host> &x) {
          return std::vector<Host>{argmaxHost(x[0], 1)};
        });
}

//===----------------------------------------------------------------------===//
// erf
//===----------------------------------------------------------------------===//

TEST(TensorOpsTest, Erf) {
  check(kernel("%a: tensor<?x5xf32>", "tensor<?x5xf32>",
               "  %r = fm.erf %a : tensor<?x5xf32> -> tensor<?x5xf32>"),
        {uniform({-1, 5}, -4, 4)}, [](const std::vector<Host> &x) {
          return std::vector<Host>{
              mapHost(x[0], [](double v) { return std::erf(v); })};
        });
}

//===----------------------------------------------------------------------===//
// concat, slice, pad
//===----------------------------------------------------------------------===//

/// Concatenation of host tensors along `axis`.
static Host concatHost(const std::vector<Host> &parts, size_t axis) {
  std::vector<int64_t> shape = parts[0].shape;
  shape[axis] = 0;
  for (const Host &p : parts)
    shape[axis] += p.shape[axis];
  Host out(shape);
  int64_t flat = 0;
  for (const auto &i : allIndices(shape)) {
    int64_t at = i[axis];
    size_t k = 0;
    while (at >= parts[k].shape[axis])
      at -= parts[k++].shape[axis];
    std::vector<int64_t> j = i;
    j[axis] = at;
    out[flat++] = parts[k].at(j);
  }
  return out;
}

TEST(TensorOpsTest, Concat) {
  check(
      kernel("%a: tensor<?x2xf32>, %b: tensor<?x3xf32>, %c: tensor<?x1xf32>",
             "tensor<?x6xf32>",
             "  %r = fm.concat %a, %b, %c {axis = 1 : i64} : tensor<?x2xf32>, "
             "tensor<?x3xf32>, tensor<?x1xf32> -> tensor<?x6xf32>"),
      {uniform({-1, 2}), uniform({-1, 3}), uniform({-1, 1})},
      [](const std::vector<Host> &x) {
        return std::vector<Host>{concatHost(x, 1)};
      });
  check(kernel("%a: tensor<2x?xf32>, %b: tensor<3x?xf32>", "tensor<5x?xf32>",
               "  %r = fm.concat %a, %b {axis = 0 : i64} : tensor<2x?xf32>, "
               "tensor<3x?xf32> -> tensor<5x?xf32>"),
        {uniform({2, -1}), uniform({3, -1})}, [](const std::vector<Host> &x) {
          return std::vector<Host>{concatHost(x, 0)};
        });
  // 64 x 600 elements: a parallel output.
  check(kernel("%a: tensor<?x300xf32>, %b: tensor<?x300xf32>",
               "tensor<?x600xf32>",
               "  %r = fm.concat %a, %b {axis = 1 : i64} : tensor<?x300xf32>, "
               "tensor<?x300xf32> -> tensor<?x600xf32>"),
        {uniform({-1, 300}), uniform({-1, 300})},
        [](const std::vector<Host> &x) {
          return std::vector<Host>{concatHost(x, 1)};
        });
  // The same operand twice, on a middle axis of 3-d tensors.
  check(kernel("%a: tensor<?x2x3xf32>, %b: tensor<?x1x3xf32>",
               "tensor<?x5x3xf32>",
               "  %r = fm.concat %a, %b, %a {axis = 1 : i64} : "
               "tensor<?x2x3xf32>, tensor<?x1x3xf32>, tensor<?x2x3xf32> -> "
               "tensor<?x5x3xf32>"),
        {uniform({-1, 2, 3}), uniform({-1, 1, 3})},
        [](const std::vector<Host> &x) {
          return std::vector<Host>{concatHost({x[0], x[1], x[0]}, 1)};
        });
}

TEST(TensorOpsTest, Slice) {
  check(kernel("%a: tensor<?x8xf32>", "tensor<?x3xf32>",
               "  %r = fm.slice %a {axis = 1 : i64, start = 2 : i64, end = 5 "
               ": i64} : tensor<?x8xf32> -> tensor<?x3xf32>"),
        {uniform({-1, 8})}, [](const std::vector<Host> &x) {
          Host out({x[0].shape[0], 3});
          for (const auto &i : allIndices(out.shape))
            out[i[0] * 3 + i[1]] = x[0].at({i[0], i[1] + 2});
          return std::vector<Host>{out};
        });
  check(kernel("%a: tensor<4x?x3xf32>", "tensor<2x?x3xf32>",
               "  %r = fm.slice %a {axis = 0 : i64, start = 2 : i64, end = 4 "
               ": i64} : tensor<4x?x3xf32> -> tensor<2x?x3xf32>"),
        {uniform({4, -1, 3})}, [](const std::vector<Host> &x) {
          int64_t n = x[0].shape[1];
          Host out({2, n, 3});
          int64_t flat = 0;
          for (const auto &i : allIndices(out.shape))
            out[flat++] = x[0].at({i[0] + 2, i[1], i[2]});
          return std::vector<Host>{out};
        });
}

TEST(TensorOpsTest, Pad) {
  check(kernel("%a: tensor<?x3x4xf32>", "tensor<?x6x6xf32>",
               "  %r = fm.pad %a {before = array<i64: 0, 1, 2>, after = "
               "array<i64: 0, 2, 0>} : tensor<?x3x4xf32> -> tensor<?x6x6xf32>"),
        {uniform({-1, 3, 4})}, [](const std::vector<Host> &x) {
          int64_t n = x[0].shape[0];
          Host out({n, 6, 6});
          int64_t flat = 0;
          for (const auto &i : allIndices(out.shape)) {
            int64_t h = i[1] - 1, w = i[2] - 2;
            out[flat++] = h >= 0 && h < 3 && w >= 0 && w < 4
                              ? x[0].at({i[0], h, w})
                              : 0.0;
          }
          return std::vector<Host>{out};
        });
}

//===----------------------------------------------------------------------===//
// gather, scatter_add
//===----------------------------------------------------------------------===//

/// Ids in [-3, rows + 3) with the first ones at and past both ends of the
/// table: 0, the last row, -1, rows and a large one.
ArgGen edgeIds(std::vector<int64_t> shape, int rows = 7) {
  return [=](int batch, std::mt19937 &rng) {
    Host h = randomInts(withBatch(shape, batch), rng, rows + 6);
    for (double &v : h.data)
      v -= 3;
    const double edges[] = {0, double(rows - 1), -1, double(rows), 1000000};
    for (int64_t i = 0; i < std::min<int64_t>(5, h.size()); ++i)
      h[i] = edges[i];
    return h;
  };
}

static int64_t clampId(double id, int64_t rows) {
  return std::clamp<int64_t>(static_cast<int64_t>(id), 0, rows - 1);
}

TEST(TensorOpsTest, GatherClampsIds) {
  for (std::string it : {"i32", "i64"}) {
    SCOPED_TRACE(it);
    std::string ids = "tensor<?x3x" + it + ">";
    check(kernel("%t: tensor<7x4xf32>, %ids: " + ids, "tensor<?x3x4xf32>",
                 "  %r = fm.gather %t, %ids : tensor<7x4xf32>, " + ids +
                     " -> tensor<?x3x4xf32>"),
          {uniform({7, 4}), edgeIds({-1, 3})}, [](const std::vector<Host> &x) {
            const Host &t = x[0], &ids = x[1];
            Host out({ids.shape[0], 3, 4});
            for (int64_t n = 0; n < ids.size(); ++n)
              for (int64_t d = 0; d < 4; ++d)
                out[n * 4 + d] = t.at({clampId(ids[n], 7), d});
            return std::vector<Host>{out};
          });
  }
}

TEST(TensorOpsTest, ScatterAddSumsRowsPerId) {
  for (std::string shape : {"?", "?x2"}) {
    SCOPED_TRACE(shape);
    std::string ids = "tensor<" + shape + "xi32>",
                u = "tensor<" + shape + "x5xf32>";
    std::vector<int64_t> idShape =
        shape == "?" ? std::vector<int64_t>{-1} : std::vector<int64_t>{-1, 2};
    std::vector<int64_t> uShape = idShape;
    uShape.push_back(5);
    check(kernel("%ids: " + ids + ", %u: " + u, "tensor<7x5xf32>",
                 "  %r = fm.scatter_add %ids, %u {rows = 7 : i64} : " + ids +
                     ", " + u + " -> tensor<7x5xf32>"),
          {edgeIds(idShape), uniform(uShape)}, [](const std::vector<Host> &x) {
            const Host &ids = x[0], &u = x[1];
            Host out({7, 5});
            for (int64_t n = 0; n < ids.size(); ++n)
              for (int64_t d = 0; d < 5; ++d)
                out[clampId(ids[n], 7) * 5 + d] += u[n * 5 + d];
            return std::vector<Host>{out};
          });
  }
}

TEST(TensorOpsTest, ScatterAddLargeTable) {
  // 1000 x 20 = 20K rows: the reduction schedule's parallel branch.
  check(kernel("%ids: tensor<?x4xi32>, %u: tensor<?x4x20xf32>",
               "tensor<1000x20xf32>",
               "  %r = fm.scatter_add %ids, %u {rows = 1000 : i64} : "
               "tensor<?x4xi32>, tensor<?x4x20xf32> -> tensor<1000x20xf32>"),
        {edgeIds({-1, 4}, 1000), uniform({-1, 4, 20})},
        [](const std::vector<Host> &x) {
          const Host &ids = x[0], &u = x[1];
          Host out({1000, 20});
          for (int64_t n = 0; n < ids.size(); ++n)
            for (int64_t d = 0; d < 20; ++d)
              out[clampId(ids[n], 1000) * 20 + d] += u[n * 20 + d];
          return std::vector<Host>{out};
        });
}

//===----------------------------------------------------------------------===//
// dropout
//===----------------------------------------------------------------------===//

namespace {

/// The mask hash as docs/codegen.md specifies it (lowbias32 rounds).
uint32_t mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  h *= 0x846ca68bu;
  return h ^ (h >> 16);
}

bool keeps(double seed, int64_t salt, int64_t index, double rate) {
  uint32_t s =
      static_cast<uint32_t>(static_cast<int64_t>(std::nearbyint(seed)));
  uint32_t key1 = mix32(s ^ mix32(static_cast<uint32_t>(salt)));
  uint32_t key2 = mix32(key1 ^ 0x9e3779b9u);
  uint32_t h = mix32(mix32(static_cast<uint32_t>(index) ^ key1) ^ key2);
  return h >= static_cast<uint32_t>(std::floor(rate * 4294967296.0));
}

std::string dropoutKernel(double rate, int salt, const std::string &shape) {
  std::string t = "tensor<" + shape + "xf32>";
  return kernel("%x: " + t + ", %seed: tensor<f32>", t,
                "  %r = fm.dropout %x, %seed {rate = " + std::to_string(rate) +
                    " : f64, salt = " + std::to_string(salt) +
                    " : i64} : " + t + ", tensor<f32> -> " + t);
}

/// A compiled dropout kernel on [N, 1000] ones.
struct DropoutRunner {
  std::unique_ptr<ParsedModule> parsed;
  std::unique_ptr<fm::JitKernel> jit;

  DropoutRunner(double rate, int salt,
                fm::ScheduleKind kind = fm::ScheduleKind::Hand) {
    parsed = parseModule(dropoutKernel(rate, salt, "?x1000"));
    EXPECT_TRUE(parsed);
    if (parsed)
      jit = fm::jitKernel(parsed->lookup("k"), kind);
    EXPECT_TRUE(jit);
  }
  Host run(float seed, int batch = 64) {
    if (!jit)
      return Host({0});
    Host ones({batch, 1000});
    std::fill(ones.data.begin(), ones.data.end(), 1.0);
    Host s(std::vector<int64_t>{});
    s[0] = seed;
    std::vector<Host> out = runKernel(
        *jit,
        {toBuffer(ones, Halide::Float(32)), toBuffer(s, Halide::Float(32))},
        batch);
    return out.empty() ? Host({0}) : out[0];
  }
};

double keptFraction(const Host &h) {
  return std::count_if(h.data.begin(), h.data.end(),
                       [](double v) { return v != 0; }) /
         double(h.size());
}

double disagreement(const Host &a, const Host &b) {
  int64_t differ = 0;
  for (int64_t i = 0; i < a.size(); ++i)
    differ += (a[i] != 0) != (b[i] != 0);
  return differ / double(a.size());
}

} // namespace

TEST(TensorOpsTest, DropoutMatchesTheHash) {
  // Every element against the reference hash, with a seed per batch.
  for (double rate : {0.0, 0.3, 0.9}) {
    SCOPED_TRACE("rate " + std::to_string(rate));
    const int salt = 5;
    auto seedGen = [](int batch, std::mt19937 &) {
      Host h(std::vector<int64_t>{});
      h[0] = 17 + batch;
      return h;
    };
    check(dropoutKernel(rate, salt, "?x3x5"), {uniform({-1, 3, 5}), seedGen},
          [&](const std::vector<Host> &x) {
            Host out = x[0];
            for (int64_t i = 0; i < out.size(); ++i)
              out[i] = keeps(x[1][0], salt, i, rate) ? x[0][i] / (1 - rate) : 0;
            return std::vector<Host>{out};
          });
  }
}

TEST(TensorOpsTest, DropoutStatistics) {
  const double rate = 0.3;
  DropoutRunner runner(rate, /*salt=*/1);
  Host a = runner.run(5), again = runner.run(5), other = runner.run(6);
  ASSERT_EQ(a.size(), 64000);
  // About 1 - rate kept: the standard deviation is 0.0018.
  EXPECT_NEAR(keptFraction(a), 1 - rate, 0.01);
  EXPECT_NEAR(keptFraction(other), 1 - rate, 0.01);
  // Kept values are scaled by 1 / (1 - rate).
  for (double v : a.data)
    if (v != 0)
      ASSERT_NEAR(v, 1 / (1 - rate), 1e-6);
  // The same seed gives the same mask; another one an independent mask
  // (two independent masks disagree on 2 rate (1 - rate) = 0.42).
  EXPECT_EQ(a.data, again.data);
  EXPECT_NEAR(disagreement(a, other), 2 * rate * (1 - rate), 0.02);
  // Another salt (another dropout layer): another mask for the same seed.
  DropoutRunner salted(rate, /*salt=*/2);
  EXPECT_NEAR(disagreement(a, salted.run(5)), 2 * rate * (1 - rate), 0.02);
  // The mask does not depend on the schedule (the hand one runs this in
  // parallel) or on the batch: row n is the same in a batch of 3.
  DropoutRunner serial(rate, /*salt=*/1, fm::ScheduleKind::Root);
  EXPECT_EQ(serial.run(5).data, a.data);
  Host small = runner.run(5, 3);
  EXPECT_TRUE(std::equal(small.data.begin(), small.data.end(), a.data.begin()));
  // Rate 0 keeps everything unscaled.
  DropoutRunner none(0.0, 1);
  for (double v : none.run(5).data)
    ASSERT_EQ(v, 1.0);
}
