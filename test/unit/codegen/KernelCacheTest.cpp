//===- KernelCacheTest.cpp - The kernel cache's keys and entries ---------===//
//
// Checks that a kernel's IR digest ignores its name and locations but not
// its body, types or attributes, and that cache entries round-trip while
// truncated, altered or misplaced ones are refused, counted and removed.
// test/tools/fmc/kernel-cache.fm checks the same through fmc.
//
//===----------------------------------------------------------------------===//
#include "TestUtils.h"

#include "codegen/KernelCache.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <fstream>

using namespace fm;
using namespace fm::test;

static const char *kKernels = R"mlir(
module {
  func.func private @k0(%x: tensor<?x3xf32>) -> tensor<?x3xf32> attributes {fm.kernel} {
    %y = fm.relu %x : tensor<?x3xf32> -> tensor<?x3xf32>
    return %y : tensor<?x3xf32>
  }
  func.func private @k7(%a: tensor<?x3xf32>) -> tensor<?x3xf32> attributes {fm.kernel} {
    %b = fm.relu %a : tensor<?x3xf32> -> tensor<?x3xf32> loc("elsewhere.fm":3:4)
    return %b : tensor<?x3xf32>
  }
  func.func private @k1(%x: tensor<?x4xf32>) -> tensor<?x4xf32> attributes {fm.kernel} {
    %y = fm.relu %x : tensor<?x4xf32> -> tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
  func.func private @k2(%x: tensor<?x3xf32>) -> tensor<?x3xf32> attributes {fm.kernel} {
    %y = fm.neg %x : tensor<?x3xf32> -> tensor<?x3xf32>
    return %y : tensor<?x3xf32>
  }
  func.func private @k3(%x: tensor<?x3xf32> {fm.scalar}) -> tensor<?x3xf32> attributes {fm.kernel} {
    %y = fm.relu %x : tensor<?x3xf32> -> tensor<?x3xf32>
    return %y : tensor<?x3xf32>
  }
}
)mlir";

TEST(KernelCacheTest, IRDigestIgnoresNameAndLocation) {
  auto parsed = parseModule(kKernels);
  ASSERT_TRUE(parsed);
  std::string k0 = hashKernelIR(parsed->lookup("k0"));
  EXPECT_EQ(k0.size(), 32u);
  EXPECT_EQ(k0, hashKernelIR(parsed->lookup("k7")));
  EXPECT_NE(k0, hashKernelIR(parsed->lookup("k1"))) << "shape";
  EXPECT_NE(k0, hashKernelIR(parsed->lookup("k2"))) << "op";
  EXPECT_NE(k0, hashKernelIR(parsed->lookup("k3"))) << "argument attribute";
  // Hashing works on a copy: the kernel keeps its name.
  EXPECT_EQ(parsed->lookup("k0").getSymName(), "k0");
}

TEST(KernelCacheTest, PartsAreSeparated) {
  EXPECT_NE(hashParts({"ab", "c"}), hashParts({"a", "bc"}));
  EXPECT_EQ(hashParts({"a", "bc"}), hashParts({"a", "bc"}));
  EXPECT_FALSE(getCompilerIdentity().empty());
  EXPECT_EQ(&getCompilerIdentity(), &getCompilerIdentity());
}

static std::string readAll(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  return buffer ? (*buffer)->getBuffer().str() : "<missing>";
}

static void writeAll(const std::string &path, const std::string &data) {
  std::ofstream(path, std::ios::binary) << data;
}

TEST(KernelCacheTest, EntriesRoundTripAndDamageIsRefused) {
  llvm::SmallString<128> root;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("fm-kcache", root));
  std::string dir = root.str().str() + "/kernels"; // created on first store
  std::string object = root.str().str() + "/k.o";
  std::string out = root.str().str() + "/out.o";
  std::string bytes("\x7f" "ELF object bytes\0with a NUL", 27);
  writeAll(object, bytes);

  KernelCache cache(dir);
  std::string key = hashParts({"key"}), other = hashParts({"other"});
  EXPECT_FALSE(cache.fetch(key, out)) << "empty cache";
  std::string error;
  ASSERT_TRUE(cache.store(key, object, error)) << error;
  ASSERT_TRUE(cache.store(other, object, error)) << error;
  ASSERT_TRUE(cache.fetch(key, out));
  EXPECT_EQ(readAll(out), bytes);
  EXPECT_EQ(cache.getDamaged(), 0u);

  std::string entry = dir + "/" + key + ".fmk";
  std::string good = readAll(entry);
  auto expectRefused = [&](const std::string &damaged, unsigned count) {
    writeAll(entry, damaged);
    EXPECT_FALSE(cache.fetch(key, out));
    EXPECT_EQ(cache.getDamaged(), count);
    EXPECT_FALSE(llvm::sys::fs::exists(entry)) << "a damaged entry is removed";
  };
  expectRefused(good.substr(0, good.size() - 1), 1); // truncated
  expectRefused(good.substr(0, 20), 2);              // inside the header
  std::string flipped = good;
  flipped[flipped.size() - 3] ^= 0x10;
  expectRefused(flipped, 3);                            // a changed byte
  expectRefused(readAll(dir + "/" + other + ".fmk"), 4); // another key's
  expectRefused(good + "x", 5);                         // trailing bytes

  // Storing again repairs it.
  ASSERT_TRUE(cache.store(key, object, error)) << error;
  EXPECT_TRUE(cache.fetch(key, out));

  // An unwritable cache is reported, not fatal.
  KernelCache blocked(object + "/sub"); // below a file
  EXPECT_FALSE(blocked.store(key, object, error));
  EXPECT_FALSE(error.empty());
  llvm::sys::fs::remove_directories(root);
}
