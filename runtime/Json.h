//===- Json.h - A small JSON value, parser and writer -----------*- C++ -*-===//
//
// This file declares fm::json::Value and its parser and writer. The runtime
// reads two kinds of JSON: model descriptors (docs/descriptor.md) and
// safetensors headers, and writes safetensors headers and JSON-lines logs.
// Objects keep their keys in insertion order, so written headers and logs
// read the way they were built. Integers that fit an int64 are kept exactly
// (safetensors offsets, tensor extents).
//
//===----------------------------------------------------------------------===//
#ifndef FM_RUNTIME_JSON_H
#define FM_RUNTIME_JSON_H

#include "runtime/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fm {
namespace json {

/// A parse error; the message names the byte offset where parsing stopped.
class ParseError : public Error {
public:
  ParseError(const std::string &message, size_t offset)
      : Error(message, FM_STATUS_DATA_LOSS), offset(offset) {}
  size_t getOffset() const { return offset; }

private:
  size_t offset;
};

class Value {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  using Member = std::pair<std::string, Value>;

  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : kind(Kind::Bool), boolean(b) {}
  Value(int i) : Value(static_cast<long long>(i)) {}
  Value(long i) : Value(static_cast<long long>(i)) {}
  Value(unsigned i) : Value(static_cast<long long>(i)) {}
  Value(unsigned long i) : Value(static_cast<long long>(i)) {}
  Value(long long i)
      : kind(Kind::Number), number(static_cast<double>(i)), integer(i),
        isInt(true) {}
  Value(double d) : kind(Kind::Number), number(d) {}
  Value(const char *s) : kind(Kind::String), string(s) {}
  Value(std::string s) : kind(Kind::String), string(std::move(s)) {}

  static Value array() {
    Value v;
    v.kind = Kind::Array;
    return v;
  }
  static Value object() {
    Value v;
    v.kind = Kind::Object;
    return v;
  }

  Kind getKind() const { return kind; }
  bool isNull() const { return kind == Kind::Null; }
  bool isBool() const { return kind == Kind::Bool; }
  bool isNumber() const { return kind == Kind::Number; }
  /// A number with no fraction or exponent that fits an int64.
  bool isInteger() const { return kind == Kind::Number && isInt; }
  bool isString() const { return kind == Kind::String; }
  bool isArray() const { return kind == Kind::Array; }
  bool isObject() const { return kind == Kind::Object; }

  /// Typed accessors; each throws fm::Error naming `what` on a kind mismatch.
  bool getBool(const std::string &what = "value") const;
  double getNumber(const std::string &what = "value") const;
  int64_t getInteger(const std::string &what = "value") const;
  const std::string &getString(const std::string &what = "value") const;
  const std::vector<Value> &getArray(const std::string &what = "value") const;
  const std::vector<Member> &getObject(const std::string &what = "value") const;

  /// Object access: find returns null if absent; at throws naming the key.
  const Value *find(const std::string &key) const;
  const Value &at(const std::string &key, const std::string &what) const;
  /// Appends to an array, or sets (replacing) a key of an object.
  Value &push(Value v);
  Value &set(const std::string &key, Value v);

  size_t size() const;
  static const char *kindName(Kind kind);

private:
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  int64_t integer = 0;
  bool isInt = false;
  std::string string;
  std::vector<Value> elements;
  std::vector<Member> members;
};

/// Parses one JSON document (RFC 8259); trailing non-space is an error.
/// Nesting deeper than 256 levels is rejected rather than risking the stack.
Value parse(const std::string &text);

/// Writes compact JSON. Doubles use the shortest form that reads back
/// bit-identical; non-finite numbers (which JSON lacks) are written null.
std::string write(const Value &value);
void write(const Value &value, std::string &out);

/// Appends `s` as a quoted, escaped JSON string.
void writeString(const std::string &s, std::string &out);

} // namespace json
} // namespace fm

#endif // FM_RUNTIME_JSON_H
