//===- CsvDataset.cpp - Data sets from CSV files ----------------*- C++ -*-===//
//
// This file implements Dataset::csv: a train and a test file, each with a
// header row naming the columns, then one sample per row. One column is
// the label; every other column is a numeric feature, read as f32 (there
// is no `scale` for CSV features: it applies to u8 data only). Fields are
// separated by commas and may be double-quoted ("" is a quote inside);
// spaces around a field are ignored, blank lines skipped, CRLF accepted.
//
// Labels are class ids when every label of both files is a non-negative
// integer, float targets otherwise; both forms are kept (Split::labels and
// Split::targets), and the model's label dtype decides which one is fed.
// Every error names file:line and, for a bad value, the column.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/Dataset.h"

#include "runtime/Error.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

using namespace fm;

namespace {

std::string readText(const std::string &path) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    throw Error("cannot open '" + path + "': " + std::strerror(errno),
                errno == ENOENT ? FM_STATUS_NOT_FOUND : FM_STATUS_UNAVAILABLE);
  std::string text;
  char chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0)
    text.append(chunk, n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed)
    throw Error("cannot read '" + path + "'", FM_STATUS_UNAVAILABLE);
  return text;
}

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

/// Splits one line into fields; `where` prefixes errors ("f.csv:3").
std::vector<std::string> splitFields(const std::string &line,
                                     const std::string &where) {
  std::vector<std::string> fields;
  size_t i = 0, n = line.size();
  while (true) {
    std::string field;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    if (i < n && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= n)
          throw Error(where + ": unterminated quoted field",
                      FM_STATUS_DATA_LOSS);
        if (line[i] == '"') {
          if (i + 1 < n && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      while (i < n && (line[i] == ' ' || line[i] == '\t'))
        ++i;
      if (i < n && line[i] != ',')
        throw Error(where + ": unexpected text after a quoted field",
                    FM_STATUS_DATA_LOSS);
    } else {
      size_t comma = line.find(',', i);
      size_t end = comma == std::string::npos ? n : comma;
      field = trim(line.substr(i, end - i));
      i = end;
    }
    fields.push_back(field);
    if (i >= n)
      break;
    ++i; // the comma
  }
  return fields;
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i ? ", " : "") + names[i];
  return s;
}

/// One file's rows, features in the train file's column order.
struct CsvTable {
  std::vector<std::string> features; // column names, file order
  std::vector<float> values;         // rows x features
  std::vector<double> labels;
  std::vector<std::string> labelWhere; // "file:line" of each row
};

CsvTable readCsv(const std::string &path, const std::string &label,
                 const std::vector<std::string> *expectFeatures) {
  std::string text = readText(path);
  CsvTable table;
  std::vector<std::string> header;
  std::vector<int> featureColumn; // feature k -> column index
  int labelColumn = -1;
  size_t start = 0;
  int64_t lineNo = 0;
  // Skip a UTF-8 byte order mark.
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0)
    start = 3;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string::npos ? text.size() : nl;
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++lineNo;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (trim(line).empty()) {
      if (nl == std::string::npos)
        break;
      continue;
    }
    std::string where = path + ":" + std::to_string(lineNo);
    std::vector<std::string> fields = splitFields(line, where);
    if (header.empty()) {
      header = fields;
      std::map<std::string, int> seen;
      for (size_t c = 0; c < header.size(); ++c) {
        if (header[c].empty())
          throw Error(where + ": column " + std::to_string(c + 1) +
                          " of the header has no name",
                      FM_STATUS_DATA_LOSS);
        if (!seen.emplace(header[c], static_cast<int>(c)).second)
          throw Error(where + ": column '" + header[c] +
                          "' appears twice in the header",
                      FM_STATUS_DATA_LOSS);
      }
      auto it = seen.find(label);
      if (it == seen.end())
        throw Error(where + ": no label column '" + label +
                        "' in the header (columns: " + joinNames(header) + ")",
                    FM_STATUS_NOT_FOUND);
      labelColumn = it->second;
      if (expectFeatures) {
        std::vector<std::string> mine;
        for (const std::string &h : header)
          if (h != label)
            mine.push_back(h);
        bool same = mine.size() == expectFeatures->size();
        for (const std::string &f : *expectFeatures) {
          auto at = seen.find(f);
          same = same && at != seen.end();
          if (same)
            featureColumn.push_back(at->second);
        }
        if (!same)
          throw Error(where + ": feature columns (" + joinNames(mine) +
                          ") differ from the training file's (" +
                          joinNames(*expectFeatures) + ")",
                      FM_STATUS_DATA_LOSS);
        table.features = *expectFeatures;
      } else {
        for (size_t c = 0; c < header.size(); ++c)
          if (static_cast<int>(c) != labelColumn) {
            table.features.push_back(header[c]);
            featureColumn.push_back(static_cast<int>(c));
          }
        if (table.features.empty())
          throw Error(where +
                          ": no feature columns: the header has only "
                          "the label column '" +
                          label + "'",
                      FM_STATUS_DATA_LOSS);
      }
      if (nl == std::string::npos)
        break;
      continue;
    }
    if (fields.size() != header.size())
      throw Error(where + ": expected " + std::to_string(header.size()) +
                      " fields (" + joinNames(header) + ") but the row has " +
                      std::to_string(fields.size()),
                  FM_STATUS_DATA_LOSS);
    auto number = [&](int column) {
      const std::string &f = fields[column];
      const char *s = f.c_str();
      char *endp = nullptr;
      errno = 0;
      double v = std::strtod(s, &endp);
      if (f.empty() || *endp != '\0' || !std::isfinite(v))
        throw Error(where + ": column '" + header[column] +
                        "': expected a number but got '" + f + "'",
                    FM_STATUS_DATA_LOSS);
      return v;
    };
    for (int c : featureColumn) {
      double v = number(c);
      if (std::fabs(v) > 3.4028234663852886e38)
        throw Error(where + ": column '" + header[c] + "': " + fields[c] +
                        " does not fit in f32",
                    FM_STATUS_DATA_LOSS);
      table.values.push_back(static_cast<float>(v));
    }
    table.labels.push_back(number(labelColumn));
    table.labelWhere.push_back(where);
    if (nl == std::string::npos)
      break;
  }
  if (header.empty())
    throw Error(path + ":1: the file is empty; expected a header row naming "
                       "the columns",
                FM_STATUS_DATA_LOSS);
  if (table.labels.empty())
    throw Error(path + ": no rows after the header", FM_STATUS_DATA_LOSS);
  return table;
}

} // namespace

Dataset Dataset::csv(const std::string &trainPath, const std::string &testPath,
                     const std::string &label) {
  CsvTable train = readCsv(trainPath, label, nullptr);
  CsvTable test = readCsv(testPath, label, &train.features);
  Dataset d;
  d.name = trainPath;
  d.isU8 = false;
  // Class ids if every label is a non-negative integer.
  int64_t maxLabel = -1;
  for (const CsvTable *t : {&train, &test})
    for (size_t i = 0; i < t->labels.size() && d.classLabels; ++i) {
      double v = t->labels[i];
      if (v < 0 || v != std::floor(v) || v > 2147483647.0) {
        d.classLabels = false;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        d.labelProblem = t->labelWhere[i] + ": label " + buf +
                         " is not a class id (a non-negative integer)";
      } else {
        maxLabel = std::max<int64_t>(maxLabel, static_cast<int64_t>(v));
      }
    }
  d.numClasses = d.classLabels ? static_cast<int32_t>(maxLabel + 1) : 0;
  for (auto [table, split] : {std::pair{&train, &d.train}, {&test, &d.test}}) {
    split->count = static_cast<int64_t>(table->labels.size());
    split->sampleShape = {static_cast<int64_t>(train.features.size())};
    split->f32 = std::move(table->values);
    for (double v : table->labels) {
      split->targets.push_back(static_cast<float>(v));
      split->labels.push_back(d.classLabels ? static_cast<int32_t>(v) : -1);
    }
  }
  d.validate();
  return d;
}
