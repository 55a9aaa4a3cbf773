//===- KernelCache.cpp - Compiled kernels, kept by content ------*- C++ -*-===//
//
// This file implements the kernel cache (KernelCache.h). An entry is one
// file, `KEY.fmk`:
//
//   offset  size  what
//        0     8  "FMKOBJ01"
//        8    32  the key (hex), so a misplaced file is not taken for it
//       40     8  the object's size, little-endian
//       48    32  the object's BLAKE3 digest
//       80     -  the object
//
// Nothing is trusted that does not match: a truncated, overwritten or
// misnamed entry is removed and its kernel compiled again.
//
//===----------------------------------------------------------------------===//
#include "codegen/KernelCache.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/OperationSupport.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <link.h>
#include <mutex>
#include <vector>

#include <utime.h>

using namespace fm;

static constexpr llvm::StringLiteral kMagic = "FMKOBJ01";
static constexpr size_t kKeySize = 32, kDigestSize = 32;
static constexpr size_t kHeaderSize = 8 + kKeySize + 8 + kDigestSize;

std::string fm::getDefaultKernelCacheDir() {
  // Keep in step with getCacheRoot in tools/fmrun/ModelLoader.cpp: one
  // folder holds everything fm caches.
  for (auto [var, suffix] : {std::pair{"FM_CACHE_DIR", "/kernels"},
                             std::pair{"XDG_CACHE_HOME", "/fm/kernels"},
                             std::pair{"HOME", "/.cache/fm/kernels"}})
    if (const char *value = std::getenv(var); value && *value)
      return std::string(value) + suffix;
  return "";
}

/// The path, size and mtime of the loaded Halide library: it holds the
/// code generator, so a new Halide must not reuse old objects either.
/// Hashing its 25 MB on every run would cost more than it protects.
static std::string describeHalideLibrary() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *data) {
        llvm::StringRef name = info->dlpi_name ? info->dlpi_name : "";
        if (!llvm::sys::path::filename(name).starts_with("libHalide"))
          return 0;
        *static_cast<std::string *>(data) = name.str();
        return 1;
      },
      &found);
  llvm::sys::fs::file_status status;
  if (found.empty() || llvm::sys::fs::status(found, status))
    return "halide:unknown";
  return "halide:" + found + ":" + std::to_string(status.getSize()) + ":" +
         std::to_string(
             status.getLastModificationTime().time_since_epoch().count());
}

const std::string &fm::getCompilerIdentity() {
  static std::string identity;
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::BLAKE3 hasher;
    // The executable's bytes rather than its mtime: a rebuild that links
    // the same code (ccache) keeps its cache.
    auto exe = llvm::MemoryBuffer::getFile("/proc/self/exe", /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
    if (exe)
      hasher.update((*exe)->getBuffer());
    else // No identity: a key nobody else can produce, i.e. no reuse.
      hasher.update(std::to_string(llvm::sys::Process::getProcessId()) + ":" +
                    std::to_string(llvm::sys::Process::GetRandomNumber()));
    hasher.update(describeHalideLibrary());
    identity = llvm::toHex(hasher.final<16>(), /*LowerCase=*/true);
  });
  return identity;
}

std::string fm::hashParts(std::initializer_list<llvm::StringRef> parts) {
  llvm::BLAKE3 hasher;
  for (llvm::StringRef part : parts) {
    char size[8];
    llvm::support::endian::write64le(size, part.size());
    hasher.update(llvm::StringRef(size, sizeof size));
    hasher.update(part);
  }
  return llvm::toHex(hasher.final<16>(), /*LowerCase=*/true);
}

std::string fm::hashKernelIR(mlir::func::FuncOp kernel) {
  // A detached copy under a fixed name: the kernel's own name (its place
  // in the module) does not change its code.
  mlir::func::FuncOp copy = kernel.clone();
  copy.setSymName("kernel");
  std::string text;
  llvm::raw_string_ostream os(text);
  copy->print(os, mlir::OpPrintingFlags().printGenericOpForm());
  copy->erase();
  return hashParts({"fm-kernel-ir", text});
}

std::string KernelCache::getEntryPath(llvm::StringRef key) const {
  return dir + "/" + key.str() + ".fmk";
}

/// Writes `data` to `path`.
static bool writeBytes(const std::string &path, llvm::StringRef data) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return false;
  os << data;
  os.close();
  return !os.has_error();
}

/// Marks an entry as just used (pruning removes the least recently used).
static void touch(const std::string &path) { ::utime(path.c_str(), nullptr); }

bool fm::getKernelCacheLimit(uint64_t &bytes, std::string &error) {
  bytes = uint64_t(1) << 30;
  const char *value = std::getenv("FM_CACHE_MAX_SIZE");
  if (!value || !*value)
    return true;
  llvm::StringRef text(value);
  unsigned shift = 20; // no unit: megabytes
  if (text.ends_with_insensitive("k"))
    shift = 10;
  else if (text.ends_with_insensitive("m"))
    shift = 20;
  else if (text.ends_with_insensitive("g"))
    shift = 30;
  if (!text.empty() && std::isalpha(static_cast<unsigned char>(text.back())))
    text = text.drop_back();
  uint64_t count = 0;
  if (text.getAsInteger(10, count) || count == 0 ||
      count > (uint64_t(1) << (60 - shift))) {
    error = std::string("FM_CACHE_MAX_SIZE must be a positive size like "
                        "300K, 512M or 2G, but it is '") +
            value + "'";
    return false;
  }
  bytes = count << shift;
  return true;
}

unsigned KernelCache::prune(uint64_t maxBytes) {
  struct Entry {
    std::string path;
    uint64_t size;
    llvm::sys::TimePoint<> used;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  auto now = std::chrono::system_clock::now();
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    llvm::sys::fs::file_status status;
    if (llvm::sys::fs::status(it->path(), status))
      continue;
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    if (name.contains(".tmp-")) {
      if (now - status.getLastModificationTime() > std::chrono::hours(1))
        llvm::sys::fs::remove(it->path());
      continue;
    }
    if (!name.ends_with(".fmk"))
      continue;
    entries.push_back(
        {it->path(), status.getSize(), status.getLastModificationTime()});
    total += status.getSize();
  }
  if (total <= maxBytes)
    return 0;
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.used < b.used; });
  unsigned removed = 0;
  for (const Entry &e : entries) {
    if (total <= maxBytes / 10 * 9)
      break;
    if (!llvm::sys::fs::remove(e.path)) {
      total -= e.size;
      ++removed;
    }
  }
  return removed;
}

bool KernelCache::fetch(llvm::StringRef key, const std::string &objectPath) {
  std::string path = getEntryPath(key);
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!file)
    return false; // not cached (or unreadable: the same to us)
  llvm::StringRef data = (*file)->getBuffer();
  bool valid = data.size() >= kHeaderSize && data.starts_with(kMagic) &&
               data.substr(8, kKeySize) == key;
  llvm::StringRef object;
  if (valid) {
    uint64_t size = llvm::support::endian::read64le(data.data() + 40);
    object = data.substr(kHeaderSize);
    valid = object.size() == size &&
            data.substr(48, kDigestSize) ==
                llvm::toStringRef(llvm::BLAKE3::hash(llvm::arrayRefFromStringRef(object)));
  }
  if (!valid) {
    // Another fmc may have just renamed a good entry over it; removing
    // that one only costs it a compile.
    llvm::sys::fs::remove(path);
    ++damaged;
    return false;
  }
  touch(path);
  return writeBytes(objectPath, object);
}

bool KernelCache::store(llvm::StringRef key, const std::string &objectPath,
                        std::string &error) {
  auto object = llvm::MemoryBuffer::getFile(objectPath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!object) {
    error = "cannot read " + objectPath + ": " + object.getError().message();
    return false;
  }
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  llvm::StringRef bytes = (*object)->getBuffer();
  std::string entry(kMagic);
  entry += key;
  char size[8];
  llvm::support::endian::write64le(size, bytes.size());
  entry.append(size, sizeof size);
  entry += llvm::toStringRef(llvm::BLAKE3::hash(llvm::arrayRefFromStringRef(bytes)));
  entry += bytes;

  // A unique temporary in the same folder, renamed over the entry: readers
  // see the old file or the whole new one, never a part.
  std::string path = getEntryPath(key);
  llvm::SmallString<128> temp;
  int fd;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(
          path + ".tmp-%%%%%%%%", fd, temp)) {
    error = "cannot create a file in " + dir + ": " + ec.message();
    return false;
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << entry;
    os.close();
    if (os.has_error()) {
      error = "cannot write " + temp.str().str() + ": " + os.error().message();
      os.clear_error();
      llvm::sys::fs::remove(temp);
      return false;
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    error = "cannot rename " + temp.str().str() + ": " + ec.message();
    llvm::sys::fs::remove(temp);
    return false;
  }
  return true;
}
