//===- Predictions.cpp - Outputs over a split, files, confusion -*- C++ -*-===//
//
// This file implements predictSplit, the CSV and .npy writers and the
// confusion matrix. The .npy layout (NumPy's format.py, version 1.0): the
// magic "\x93NUMPY", bytes 1 and 0, a little-endian u16 header length,
// then an ASCII Python dict literal {'descr', 'fortran_order', 'shape'}
// padded with spaces and a newline so that the data starts on a multiple
// of 64 bytes, then the raw data.
//
//===----------------------------------------------------------------------===//
#include "runtime/Predictions.h"

#include "runtime/Error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

using namespace fm;

//===----------------------------------------------------------------------===//
// Collecting outputs
//===----------------------------------------------------------------------===//

int64_t OutputArray::getSampleElementCount() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i)
    n *= shape[i];
  return n;
}

double OutputArray::get(int64_t i) const {
  const uint8_t *p = bytes.data() + i * getDTypeSize(dtype);
  switch (dtype) {
  case DType::F32: {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::F64: {
    double v;
    std::memcpy(&v, p, 8);
    return v;
  }
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::I64: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return static_cast<double>(v);
  }
  case DType::U8:
  case DType::Bool:
    return *p;
  }
  return 0;
}

std::vector<OutputArray>
fm::predictSplit(Trainer &trainer, Model &model, const SplitRange &range,
                 int64_t batch, const std::vector<std::string> &names) {
  const Descriptor &d = model.getDescriptor();
  std::vector<std::string> wanted = names.empty() ? d.outputs : names;
  if (wanted.empty())
    throw Error("model '" + d.model + "' has no outputs to predict",
                FM_STATUS_FAILED_PRECONDITION);
  if (batch < 1)
    batch = trainer.getSettings().batch;
  std::vector<OutputArray> outs;
  std::vector<int> ids;
  for (const std::string &name : wanted) {
    int id = model.getOutputId(name);
    const TensorDesc &t = model.getTensorDesc(id);
    if (t.shape.empty() || t.shape[0] != -1 ||
        std::count(t.shape.begin(), t.shape.end(), -1) != 1)
      throw Error("output '" + name + "' is " + formatShape(t.dtype, t.shape) +
                      "; only outputs whose first (and only) batch extent "
                      "is N can be collected per sample",
                  FM_STATUS_FAILED_PRECONDITION);
    OutputArray a;
    a.name = name;
    a.dtype = t.dtype;
    a.shape = t.shape;
    a.shape[0] = range.count;
    a.bytes.resize(static_cast<size_t>(range.count * t.getSampleElementCount() *
                                       getDTypeSize(t.dtype)));
    outs.push_back(std::move(a));
    ids.push_back(id);
  }
  std::vector<int64_t> indices(
      static_cast<size_t>(std::min(batch, std::max<int64_t>(range.count, 1))));
  for (int64_t start = 0; start < range.count; start += batch) {
    int64_t size = std::min(batch, range.count - start);
    for (int64_t k = 0; k < size; ++k)
      indices[k] = range.first + start + k;
    trainer.loadBatch(*range.split, indices.data(), size, false, 0);
    model.run(StepKind::Predict, size);
    for (size_t o = 0; o < outs.size(); ++o) {
      size_t perSample =
          outs[o].bytes.size() / std::max<int64_t>(range.count, 1);
      model.readTensor(ids[o], size, outs[o].bytes.data() + start * perSample,
                       size * perSample);
    }
  }
  return outs;
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

namespace {

/// A FILE* that reports every failure with the path.
class OutFile {
public:
  explicit OutFile(const std::string &path) : path(path) {
    f = std::fopen(path.c_str(), "wb");
    if (!f)
      throw Error("cannot write '" + path + "': " + std::strerror(errno),
                  FM_STATUS_UNAVAILABLE);
  }
  ~OutFile() {
    if (f)
      std::fclose(f);
  }
  void write(const void *data, size_t n) {
    if (n && std::fwrite(data, 1, n, f) != n)
      fail();
  }
  void write(const std::string &s) { write(s.data(), s.size()); }
  void close() {
    int rc = std::fclose(f);
    f = nullptr;
    if (rc != 0)
      fail();
  }

private:
  [[noreturn]] void fail() {
    throw Error("cannot write '" + path + "': " + std::strerror(errno),
                FM_STATUS_UNAVAILABLE);
  }
  std::string path;
  std::FILE *f = nullptr;
};

const char *getNpyDescr(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "<f4";
  case DType::F64:
    return "<f8";
  case DType::I32:
    return "<i4";
  case DType::I64:
    return "<i8";
  case DType::U8:
    return "|u1";
  case DType::Bool:
    return "|b1";
  }
  return "";
}

bool endsWith(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

/// Column names of one output: name, or name[i][j].. in row-major order.
void appendColumnNames(const OutputArray &a, std::vector<std::string> &out) {
  std::vector<int64_t> dims(a.shape.begin() + 1, a.shape.end());
  if (dims.empty()) {
    out.push_back(a.name);
    return;
  }
  std::vector<int64_t> index(dims.size(), 0);
  for (int64_t n = a.getSampleElementCount(); n > 0; --n) {
    std::string name = a.name;
    for (int64_t i : index)
      name += "[" + std::to_string(i) + "]";
    out.push_back(name);
    for (size_t k = dims.size(); k-- > 0;) {
      if (++index[k] < dims[k])
        break;
      index[k] = 0;
    }
  }
}

std::string quoteCsv(const std::string &s) {
  if (s.find_first_of(",\"\n") == std::string::npos)
    return s;
  std::string q = "\"";
  for (char c : s)
    q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string formatValue(const OutputArray &a, int64_t i) {
  char buf[40];
  double v = a.get(i);
  switch (a.dtype) {
  case DType::F32:
    std::snprintf(buf, sizeof buf, "%.9g", v); // round-trips an f32
    break;
  case DType::F64:
    std::snprintf(buf, sizeof buf, "%.17g", v);
    break;
  case DType::I64: {
    int64_t x;
    std::memcpy(&x, a.bytes.data() + i * 8, 8);
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(x));
    break;
  }
  default:
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  }
  return buf;
}

void writeCsv(const std::string &path, const std::vector<OutputArray> &outs) {
  std::vector<std::string> columns;
  for (const OutputArray &a : outs)
    appendColumnNames(a, columns);
  OutFile f(path);
  std::string line;
  for (size_t c = 0; c < columns.size(); ++c)
    line += (c ? "," : "") + quoteCsv(columns[c]);
  f.write(line + "\n");
  int64_t rows = outs.empty() ? 0 : outs[0].getSampleCount();
  for (int64_t r = 0; r < rows; ++r) {
    line.clear();
    bool first = true;
    for (const OutputArray &a : outs) {
      int64_t per = a.getSampleElementCount();
      for (int64_t e = 0; e < per; ++e) {
        if (!first)
          line += ',';
        first = false;
        line += formatValue(a, r * per + e);
      }
    }
    f.write(line + "\n");
  }
  f.close();
}

} // namespace

void fm::writeNpy(const std::string &path, const OutputArray &a) {
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i)
    shape += std::to_string(a.shape[i]) + (a.shape.size() == 1 ? "," : "") +
             (i + 1 < a.shape.size() ? ", " : "");
  shape += ")";
  std::string header = std::string("{'descr': '") + getNpyDescr(a.dtype) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // magic (6) + version (2) + length (2) + header + '\n', to 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 65535)
    throw Error("'" + path + "': the .npy header is too long",
                FM_STATUS_INVALID_ARGUMENT);
  uint8_t preamble[10] = {0x93,
                          'N',
                          'U',
                          'M',
                          'P',
                          'Y',
                          1,
                          0,
                          static_cast<uint8_t>(header.size() & 0xff),
                          static_cast<uint8_t>(header.size() >> 8)};
  OutFile f(path);
  f.write(preamble, sizeof preamble);
  f.write(header);
  // Host data is little-endian (x86-64, AArch64): written as is.
  f.write(a.bytes.data(), a.bytes.size());
  f.close();
}

std::vector<std::string>
fm::writePredictions(const std::string &path,
                     const std::vector<OutputArray> &outs) {
  if (endsWith(path, ".csv")) {
    writeCsv(path, outs);
    return {path};
  }
  if (!endsWith(path, ".npy"))
    throw Error("cannot tell the format of '" + path +
                    "': expected a file name ending in .csv or .npy",
                FM_STATUS_INVALID_ARGUMENT);
  if (outs.size() == 1) {
    writeNpy(path, outs[0]);
    return {path};
  }
  std::string stem = path.substr(0, path.size() - 4);
  std::vector<std::string> written;
  for (const OutputArray &a : outs) {
    written.push_back(stem + "." + a.name + ".npy");
    writeNpy(written.back(), a);
  }
  return written;
}

//===----------------------------------------------------------------------===//
// Confusion matrix
//===----------------------------------------------------------------------===//

int64_t ConfusionMatrix::getRowTotal(int64_t t) const {
  int64_t n = 0;
  for (int64_t p = 0; p < classes; ++p)
    n += at(t, p);
  return n;
}

int64_t ConfusionMatrix::getTotal() const {
  int64_t n = 0;
  for (int64_t c : counts)
    n += c;
  return n;
}

int64_t ConfusionMatrix::getCorrect() const {
  int64_t n = 0;
  for (int64_t c = 0; c < classes; ++c)
    n += at(c, c);
  return n;
}

double ConfusionMatrix::getClassAccuracy(int64_t t) const {
  int64_t total = getRowTotal(t);
  return total ? static_cast<double>(at(t, t)) / total
               : std::numeric_limits<double>::quiet_NaN();
}

std::string ConfusionMatrix::format(const std::string &output) const {
  auto pad = [](const std::string &s, size_t width) {
    return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
  };
  char buf[64];
  std::string s = "per-class accuracy (argmax of output '" + output +
                  "' over its last axis):\n";
  size_t countWidth = std::max<size_t>(7, std::to_string(getTotal()).size());
  s += "  " + pad("class", 5) + "  " + pad("accuracy", 8) + "  " +
       pad("correct", countWidth) + " / samples\n";
  for (int64_t c = 0; c < classes; ++c) {
    double acc = getClassAccuracy(c);
    if (std::isnan(acc))
      std::snprintf(buf, sizeof buf, "%s", "-");
    else
      std::snprintf(buf, sizeof buf, "%.4f", acc);
    s += "  " + pad(std::to_string(c), 5) + "  " + pad(buf, 8) + "  " +
         pad(std::to_string(at(c, c)), countWidth) + " / " +
         std::to_string(getRowTotal(c)) + "\n";
  }
  std::snprintf(buf, sizeof buf, "%.4f",
                getTotal() ? static_cast<double>(getCorrect()) / getTotal()
                           : 0.0);
  s += "  " + pad("all", 5) + "  " + pad(buf, 8) + "  " +
       pad(std::to_string(getCorrect()), countWidth) + " / " +
       std::to_string(getTotal()) + "\n";
  s += "confusion matrix (rows: true class, columns: predicted class):\n";
  size_t width = std::max<size_t>(
      std::to_string(classes - 1).size(),
      std::to_string(*std::max_element(counts.begin(), counts.end())).size());
  std::string corner = "true\\pred";
  s += "  " + corner;
  for (int64_t p = 0; p < classes; ++p)
    s += " " + pad(std::to_string(p), width);
  s += "\n";
  for (int64_t t = 0; t < classes; ++t) {
    s += "  " + pad(std::to_string(t), corner.size());
    for (int64_t p = 0; p < classes; ++p)
      s += " " + pad(std::to_string(at(t, p)), width);
    s += "\n";
  }
  return s;
}

std::optional<ConfusionMatrix> fm::computeConfusion(const Model &model,
                                                    const Dataset &data,
                                                    const OutputArray &pred,
                                                    const SplitRange &range,
                                                    std::string &whyNot) {
  const Descriptor &d = model.getDescriptor();
  std::vector<int> labels = d.getTensorsOfKind(TensorKind::Label);
  if (labels.size() != 1) {
    whyNot = "the model has " + std::to_string(labels.size()) + " labels";
    return std::nullopt;
  }
  const TensorDesc &label = d.tensors[labels[0]];
  if (label.dtype == DType::F32 || label.dtype == DType::F64) {
    whyNot = "label '" + label.name + "' is " +
             formatShape(label.dtype, label.shape) + ", not integer class ids";
    return std::nullopt;
  }
  if (!data.classLabels) {
    whyNot = "the data's labels are not class ids (" + data.labelProblem + ")";
    return std::nullopt;
  }
  std::vector<int64_t> sample(pred.shape.begin() + 1, pred.shape.end());
  std::string outShape = formatShape(pred.dtype, [&] {
    std::vector<int64_t> s = pred.shape;
    s[0] = -1;
    return s;
  }());
  if (sample.empty() || sample.back() < 2) {
    whyNot = "output '" + pred.name + "' is " + outShape +
             ": argmax over the last axis needs a score per class";
    return std::nullopt;
  }
  int64_t k = sample.back();
  if (pred.getSampleElementCount() != k) {
    whyNot = "output '" + pred.name + "' is " + outShape +
             ": several predictions per sample";
    return std::nullopt;
  }
  ConfusionMatrix m;
  m.classes = std::max<int64_t>(k, data.numClasses);
  m.counts.assign(static_cast<size_t>(m.classes * m.classes), 0);
  for (int64_t i = 0; i < range.count; ++i) {
    int64_t best = 0;
    double bestValue = pred.get(i * k);
    for (int64_t c = 1; c < k; ++c) {
      double v = pred.get(i * k + c);
      if (v > bestValue || (std::isnan(bestValue) && !std::isnan(v))) {
        best = c;
        bestValue = v;
      }
    }
    int32_t truth = range.split->labels[range.first + i];
    if (truth < 0 || truth >= m.classes) {
      whyNot = "label " + std::to_string(truth) + " of sample " +
               std::to_string(range.first + i) +
               " is not a class of the output";
      return std::nullopt;
    }
    ++m.counts[truth * m.classes + best];
  }
  return m;
}
