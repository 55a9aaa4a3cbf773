//===- Checkpoint.cpp - safetensors checkpoints -----------------*- C++ -*-===//
//
// This file implements safetensors I/O and model checkpoints. Writes are
// atomic (temporary file, fsync, rename, fsync of the folder) so a crash
// never leaves a half-written checkpoint under the real name. Reads check
// everything the safetensors reference implementation checks, so a file
// we accept is one PyTorch accepts too.
//
//===----------------------------------------------------------------------===//
#include "runtime/Checkpoint.h"

#include "runtime/Error.h"
#include "runtime/Json.h"
#include "runtime/Model.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

using namespace fm;
using json::Value;

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error                                                                         \
    "checkpoints store raw little-endian data; add byte swapping for this host"
#endif

// The safetensors reference implementation rejects larger headers too.
static constexpr uint64_t kMaxHeaderBytes = 100 * 1000 * 1000;

const char *fm::getSafetensorsDType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F64:
    return "F64";
  case DType::I32:
    return "I32";
  case DType::I64:
    return "I64";
  case DType::U8:
    return "U8";
  case DType::Bool:
    return "BOOL";
  }
  return "?";
}

static bool parseSafetensorsDType(const std::string &s, DType &out) {
  for (DType d :
       {DType::F32, DType::F64, DType::I32, DType::I64, DType::U8, DType::Bool})
    if (s == getSafetensorsDType(d)) {
      out = d;
      return true;
    }
  return false;
}

const SafetensorsFile::Entry *
SafetensorsFile::find(const std::string &name) const {
  for (const Entry &e : entries)
    if (e.name == name)
      return &e;
  return nullptr;
}

const std::string *SafetensorsFile::findMetadata(const std::string &key) const {
  for (const auto &m : metadata)
    if (m.first == key)
      return &m.second;
  return nullptr;
}

static std::string errnoText() { return std::strerror(errno); }

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

static void writeAll(int fd, const void *data, size_t size,
                     const std::string &path) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw Error("cannot write '" + path + "': " + errnoText(),
                  FM_STATUS_UNAVAILABLE);
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void fm::writeSafetensors(const std::string &path,
                          const std::vector<SafetensorsView> &tensors,
                          const Metadata &metadata) {
  Value header = Value::object();
  Value meta = Value::object();
  for (const auto &m : metadata)
    meta.set(m.first, Value(m.second));
  header.set("__metadata__", std::move(meta));
  std::vector<size_t> sizes;
  size_t offset = 0;
  for (const SafetensorsView &t : tensors) {
    if (t.name == "__metadata__" || header.find(t.name))
      throw Error("cannot write '" + path +
                  "': duplicate or reserved tensor name '" + t.name + "'");
    size_t count = 1;
    Value shape = Value::array();
    for (int64_t d : t.shape) {
      count *= static_cast<size_t>(d);
      shape.push(Value(d));
    }
    size_t bytes = count * getDTypeSize(t.dtype);
    Value entry = Value::object();
    entry.set("dtype", Value(getSafetensorsDType(t.dtype)));
    entry.set("shape", std::move(shape));
    Value offsets = Value::array();
    offsets.push(Value(offset));
    offsets.push(Value(offset + bytes));
    entry.set("data_offsets", std::move(offsets));
    header.set(t.name, std::move(entry));
    sizes.push_back(bytes);
    offset += bytes;
  }
  std::string text = json::write(header);
  // Pad with spaces so the data starts 8-byte aligned (as the reference
  // writer does); JSON ignores trailing whitespace.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t lengthBytes[8];
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i)
    lengthBytes[i] = static_cast<uint8_t>(length >> (8 * i));

  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error("cannot create '" + tmp + "': " + errnoText(),
                FM_STATUS_UNAVAILABLE);
  try {
    writeAll(fd, lengthBytes, 8, tmp);
    writeAll(fd, text.data(), text.size(), tmp);
    for (size_t i = 0; i < tensors.size(); ++i)
      writeAll(fd, tensors[i].data, sizes[i], tmp);
    if (::fsync(fd) != 0)
      throw Error("cannot flush '" + tmp + "': " + errnoText(),
                  FM_STATUS_UNAVAILABLE);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw Error("cannot close '" + tmp + "': " + errnoText(),
                FM_STATUS_UNAVAILABLE);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = errnoText();
    ::unlink(tmp.c_str());
    throw Error("cannot rename '" + tmp + "' to '" + path + "': " + why,
                FM_STATUS_UNAVAILABLE);
  }
  // Make the rename itself durable; failure here loses nothing written.
  size_t slash = path.find_last_of('/');
  std::string dir =
      slash == std::string::npos ? "." : path.substr(0, slash + 1);
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

static std::vector<uint8_t> readFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error("cannot open '" + path + "': " + errnoText(),
                errno == ENOENT ? FM_STATUS_NOT_FOUND : FM_STATUS_UNAVAILABLE);
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      std::string why = errnoText();
      ::close(fd);
      throw Error("cannot read '" + path + "': " + why, FM_STATUS_UNAVAILABLE);
    }
    if (n == 0)
      break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  ::close(fd);
  return bytes;
}

SafetensorsFile fm::readSafetensors(const std::string &path) {
  std::vector<uint8_t> bytes = readFile(path);
  auto corrupt = [&](const std::string &why) {
    return Error("'" + path + "' is not a valid safetensors file: " + why,
                 FM_STATUS_DATA_LOSS);
  };
  if (bytes.size() < 8)
    throw corrupt("expected at least 8 bytes but the file has " +
                  std::to_string(bytes.size()));
  uint64_t headerLength = 0;
  for (int i = 0; i < 8; ++i)
    headerLength |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  if (headerLength > kMaxHeaderBytes || headerLength > bytes.size() - 8)
    throw corrupt("header length " + std::to_string(headerLength) +
                  " exceeds the file (" + std::to_string(bytes.size()) +
                  " bytes); truncated?");
  std::string text(bytes.begin() + 8, bytes.begin() + 8 + headerLength);
  Value header;
  try {
    header = json::parse(text);
  } catch (const Error &e) {
    throw corrupt(std::string("header: ") + e.what());
  }
  if (!header.isObject())
    throw corrupt("header is not a JSON object");

  SafetensorsFile file;
  size_t dataSize = bytes.size() - 8 - headerLength;
  try {
    for (const auto &member : header.getObject()) {
      const std::string &name = member.first;
      const Value &v = member.second;
      if (name == "__metadata__") {
        for (const auto &m : v.getObject("__metadata__"))
          file.metadata.emplace_back(
              m.first, m.second.getString("__metadata__." + m.first));
        continue;
      }
      std::string what = "tensor '" + name + "'";
      SafetensorsFile::Entry e;
      e.name = name;
      const std::string &dtype = v.at("dtype", what).getString(what + ".dtype");
      if (!parseSafetensorsDType(dtype, e.dtype))
        throw Error(what + ": unsupported dtype '" + dtype + "'");
      uint64_t count = 1;
      for (const Value &d : v.at("shape", what).getArray(what + ".shape")) {
        int64_t extent = d.getInteger(what + ".shape");
        if (extent < 0 ||
            (extent > 0 && count > UINT64_MAX / 16 / uint64_t(extent)))
          throw Error(what + ": invalid extent " + std::to_string(extent));
        count *= static_cast<uint64_t>(extent);
        e.shape.push_back(extent);
      }
      const auto &offsets =
          v.at("data_offsets", what).getArray(what + ".data_offsets");
      if (offsets.size() != 2)
        throw Error(what + ": data_offsets must be [begin, end]");
      int64_t begin = offsets[0].getInteger(what + ".data_offsets");
      int64_t end = offsets[1].getInteger(what + ".data_offsets");
      if (begin < 0 || end < begin || static_cast<uint64_t>(end) > dataSize)
        throw Error(what + ": data_offsets [" + std::to_string(begin) + ", " +
                    std::to_string(end) + "] lie outside the " +
                    std::to_string(dataSize) + " data bytes; truncated?");
      if (static_cast<uint64_t>(end - begin) != count * getDTypeSize(e.dtype))
        throw Error(what + ": expected " +
                    std::to_string(count * getDTypeSize(e.dtype)) +
                    " bytes for its shape but data_offsets span " +
                    std::to_string(end - begin));
      e.begin = static_cast<size_t>(begin);
      e.end = static_cast<size_t>(end);
      file.entries.push_back(std::move(e));
    }
  } catch (const Error &e) {
    throw corrupt(e.what());
  }
  // The tensors must tile the data exactly: no overlaps, gaps or tail.
  std::vector<const SafetensorsFile::Entry *> sorted;
  for (const auto &e : file.entries)
    sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto *a, auto *b) {
    return a->begin < b->begin || (a->begin == b->begin && a->end < b->end);
  });
  size_t expected = 0;
  for (const auto *e : sorted) {
    if (e->begin != expected)
      throw corrupt("tensor '" + e->name + "' starts at byte " +
                    std::to_string(e->begin) +
                    " but the previous one ends at " +
                    std::to_string(expected));
    expected = e->end;
  }
  if (expected != dataSize)
    throw corrupt("the tensors cover " + std::to_string(expected) +
                  " data bytes but the file has " + std::to_string(dataSize));
  file.data.assign(bytes.begin() + 8 + headerLength, bytes.end());
  return file;
}

//===----------------------------------------------------------------------===//
// Model checkpoints
//===----------------------------------------------------------------------===//

static std::vector<int> getPersistentTensors(const Model &model) {
  std::vector<int> ids;
  for (int i = 0; i < model.getNumTensors(); ++i) {
    TensorKind k = model.getTensorDesc(i).kind;
    if (k == TensorKind::Param || k == TensorKind::State)
      ids.push_back(i);
  }
  return ids;
}

void fm::saveCheckpoint(const Model &model, const std::string &path,
                        const Metadata &extra) {
  Metadata metadata = {{"format", "fm-checkpoint"},
                       {"model", model.getName()},
                       {"step", std::to_string(model.getStepCount())},
                       {"seed", std::to_string(model.getSeed())}};
  for (const auto &m : extra) {
    auto it = std::find_if(metadata.begin(), metadata.end(),
                           [&](const auto &x) { return x.first == m.first; });
    if (it != metadata.end())
      it->second = m.second;
    else
      metadata.push_back(m);
  }
  std::vector<SafetensorsView> views;
  for (int id : getPersistentTensors(model)) {
    model.checkHostReadable(id);
    const TensorDesc &t = model.getTensorDesc(id);
    views.push_back({t.name, t.dtype, t.shape, model.getData(id)});
  }
  writeSafetensors(path, views, metadata);
}

static int64_t parseCount(const std::string &text, const std::string &what) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < 0)
    throw Error(what + ": expected a non-negative integer but got '" + text +
                    "'",
                FM_STATUS_DATA_LOSS);
  return v;
}

Metadata fm::loadCheckpoint(Model &model, const std::string &path) {
  SafetensorsFile file = readSafetensors(path);
  std::string prefix = "checkpoint '" + path + "'";
  if (const std::string *name = file.findMetadata("model"))
    if (*name != model.getName())
      throw Error(prefix + " is for model '" + *name + "' but this is model '" +
                      model.getName() + "'",
                  FM_STATUS_INVALID_ARGUMENT);
  std::vector<int> ids = getPersistentTensors(model);
  // Validate everything before copying anything: a failed load must not
  // leave the model half restored.
  for (int id : ids) {
    const TensorDesc &t = model.getTensorDesc(id);
    const SafetensorsFile::Entry *e = file.find(t.name);
    if (!e)
      throw Error(prefix + " has no tensor '" + t.name + "'",
                  FM_STATUS_NOT_FOUND);
    if (e->dtype != t.dtype || e->shape != t.shape)
      throw Error(prefix + ": tensor '" + t.name + "' is " +
                      formatShape(e->dtype, e->shape) +
                      " but the model expects " + formatShape(t.dtype, t.shape),
                  FM_STATUS_INVALID_ARGUMENT);
  }
  for (const auto &e : file.entries) {
    int id = model.getDescriptor().findTensor(e.name);
    TensorKind kind = id >= 0 ? model.getTensorDesc(id).kind : TensorKind::Temp;
    if (kind != TensorKind::Param && kind != TensorKind::State)
      throw Error(prefix + " has tensor '" + e.name + "' that model '" +
                      model.getName() + "' does not have",
                  FM_STATUS_INVALID_ARGUMENT);
  }
  int64_t step = 0;
  if (const std::string *s = file.findMetadata("step"))
    step = parseCount(*s, prefix + " metadata 'step'");
  for (int id : ids) {
    const SafetensorsFile::Entry *e = file.find(model.getTensorDesc(id).name);
    std::memcpy(model.getData(id), file.data.data() + e->begin,
                e->end - e->begin);
    model.markHostWritten(id);
  }
  model.setStepCount(step);
  return file.metadata;
}
