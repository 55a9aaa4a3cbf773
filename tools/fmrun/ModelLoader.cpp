//===- ModelLoader.cpp - Find, compile and load model libraries -*- C++ -*-===//
//
// This file implements the model-library side of fmrun. The compile cache
// key hashes the source text, the source's absolute folder (fmc resolves
// relative data paths against it, so they end up in the descriptor), the
// compiler's path, size and mtime, and every flag passed to it. A compile
// goes to a temporary folder renamed into place at the end, so an
// interrupted compile never looks like a cached one.
//
//===----------------------------------------------------------------------===//
#include "tools/fmrun/ModelLoader.h"

#include "runtime/Error.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace fm;
namespace fs = std::filesystem;

static bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

static std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot read '" + path + "': " + std::strerror(errno),
                FM_STATUS_NOT_FOUND);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// FNV-1a, 64 bits: a stable hash (std::hash may differ between builds).
static uint64_t fnv1a(const std::string &s,
                      uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

static std::string findFmc(const CompileOptions &options) {
  std::string fmc = options.fmc;
  if (fmc.empty())
    if (const char *env = std::getenv("FMC"))
      fmc = env;
  if (fmc.empty()) {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec)
      throw Error("cannot locate fmrun's own folder to find fmc; pass --fmc",
                  FM_STATUS_NOT_FOUND);
    fmc = (self.parent_path() / "fmc").string();
  }
  if (::access(fmc.c_str(), X_OK) != 0)
    throw Error("cannot run the compiler '" + fmc +
                    "' (build the fmc target, or pass --fmc PATH)",
                FM_STATUS_NOT_FOUND);
  return fs::absolute(fmc).string();
}

/// fmc keeps its compiled kernels in ROOT/kernels
/// (codegen/KernelCache.cpp, getDefaultKernelCacheDir); keep the two in
/// step.
static std::string getCacheRoot() {
  if (const char *dir = std::getenv("FM_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/fm";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/fm";
  throw Error(
      "none of FM_CACHE_DIR, XDG_CACHE_HOME and HOME is set; fmrun has no "
      "cache folder",
      FM_STATUS_FAILED_PRECONDITION);
}

static std::vector<std::string> fmcArguments(const std::string &fmc,
                                             const std::string &source,
                                             const std::string &outDir,
                                             const CompileOptions &options) {
  std::vector<std::string> args = {fmc, "--shared", source, "-o", outDir};
  if (!options.target.empty())
    args.insert(args.end(), {"--target", options.target});
  if (!options.schedule.empty())
    args.insert(args.end(), {"--schedule", options.schedule});
  for (const auto &[key, value] : options.trainKeys)
    args.insert(args.end(), {"--set", key + "=" + value});
  return args;
}

std::string fm::getCacheDir(const std::string &source,
                            const CompileOptions &options) {
  std::string fmc = findFmc(options);
  struct stat st;
  ::stat(fmc.c_str(), &st);
  std::string key = "fm-cache-v1";
  key += '\0' + readText(source);
  key += '\0' + fs::absolute(source).parent_path().string();
  key += '\0' + fmc + '\0' + std::to_string(st.st_size) + ':' +
         std::to_string(st.st_mtim.tv_sec) + '.' +
         std::to_string(st.st_mtim.tv_nsec);
  for (const std::string &a : fmcArguments("", "", "", options))
    key += '\0' + a;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fnv1a(key));
  return getCacheRoot() + "/" + hex;
}

/// The model library in a compiled folder: the only lib*.so, or the one
/// named after the source's `train NAME` block when there are several.
static std::string findLibrary(const std::string &dir,
                               const std::string &source) {
  std::vector<std::string> libs;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("lib", 0) == 0 && endsWith(name, ".so"))
      libs.push_back(e.path().string());
  }
  if (libs.size() == 1)
    return libs[0];
  std::smatch m;
  std::string text = readText(source);
  static const std::regex trainBlock(
      R"((^|\n)\s*train\s+([A-Za-z_][A-Za-z0-9_]*))");
  if (!libs.empty() && std::regex_search(text, m, trainBlock)) {
    std::string want = dir + "/lib" + m[2].str() + ".so";
    for (const std::string &l : libs)
      if (l == want)
        return l;
  }
  throw Error("fmc wrote " + std::to_string(libs.size()) +
                  " model libraries (lib*.so) into '" + dir +
                  "'; expected one (or one named after the train block)",
              FM_STATUS_FAILED_PRECONDITION);
}

static int runProcess(const std::vector<std::string> &args) {
  std::vector<char *> argv;
  for (const std::string &a : args)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0)
    throw Error(std::string("cannot start fmc: ") + std::strerror(errno),
                FM_STATUS_UNAVAILABLE);
  if (pid == 0) {
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "fmrun: cannot execute '%s': %s\n", argv[0],
                 std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      throw Error(std::string("waiting for fmc failed: ") +
                      std::strerror(errno),
                  FM_STATUS_UNAVAILABLE);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static std::string compileSource(const std::string &source,
                                 const CompileOptions &options) {
  if (::access(source.c_str(), R_OK) != 0)
    throw Error("cannot read model source '" + source +
                    "': " + std::strerror(errno),
                FM_STATUS_NOT_FOUND);
  std::string dir = getCacheDir(source, options);
  if (fs::exists(dir + "/.complete"))
    return findLibrary(dir, source);

  std::error_code ec;
  fs::create_directories(fs::path(dir).parent_path(), ec);
  std::string tmp = dir + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp, ec))
    throw Error("cannot create cache folder '" + tmp + "': " + ec.message(),
                FM_STATUS_UNAVAILABLE);
  std::vector<std::string> args = fmcArguments(
      findFmc(options), fs::absolute(source).string(), tmp, options);
  if (options.verbose)
    std::fprintf(stderr, "fmrun: compiling %s\n", source.c_str());
  int rc = runProcess(args);
  if (rc != 0) {
    fs::remove_all(tmp, ec);
    throw Error("fmc failed to compile '" + source + "' (exit status " +
                    std::to_string(rc) + ")",
                FM_STATUS_FAILED_PRECONDITION);
  }
  try {
    findLibrary(tmp, source);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  std::ofstream(tmp + "/.complete") << "ok\n";
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    // Another fmrun finished the same compile first: use its result.
    fs::remove_all(tmp, ec);
    if (!fs::exists(dir + "/.complete"))
      throw Error("cannot move '" + tmp + "' to '" + dir + "'",
                  FM_STATUS_UNAVAILABLE);
  }
  return findLibrary(dir, source);
}

std::string fm::resolveModelLibrary(const std::string &model,
                                    const CompileOptions &options) {
  if (endsWith(model, ".fm"))
    return compileSource(model, options);
  if (endsWith(model, ".so"))
    return model;
  throw Error("expected a model library (lib<Name>.so) or a model source (.fm) "
              "but got '" +
              model + "'");
}

const fm_model_desc_t *fm::loadModelLibrary(const std::string &path) {
  std::string file = fs::path(path).filename().string();
  if (file.rfind("lib", 0) != 0 || !endsWith(file, ".so") || file.size() <= 6)
    throw Error("a model library must be named lib<Name>.so but got '" + file +
                "'");
  std::string name = file.substr(3, file.size() - 6);
  // A path without a slash would make dlopen search the library path.
  std::string openPath =
      path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = ::dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw Error(std::string("cannot load model library: ") + ::dlerror(),
                FM_STATUS_NOT_FOUND);
  std::string symbol = "fm_model_" + name;
  using Entry = const fm_model_desc_t *(*)(void);
  auto entry = reinterpret_cast<Entry>(::dlsym(handle, symbol.c_str()));
  if (!entry)
    throw Error("model library '" + path + "' has no symbol '" + symbol + "'",
                FM_STATUS_NOT_FOUND);
  const fm_model_desc_t *desc = entry();
  if (!desc)
    throw Error("'" + symbol + "' in '" + path + "' returned no descriptor",
                FM_STATUS_FAILED_PRECONDITION);
  return desc;
}
