//===- Json.cpp - A small JSON value, parser and writer ---------*- C++ -*-===//
//
// This file implements the JSON value and a compact writer (the parser is
// in JsonParser.cpp). Numbers are written with std::to_chars so that
// neither the locale nor the C library's printf can change them.
//
//===----------------------------------------------------------------------===//
#include "runtime/Json.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

using namespace fm;
using namespace fm::json;

//===----------------------------------------------------------------------===//
// Value
//===----------------------------------------------------------------------===//

const char *Value::kindName(Kind kind) {
  switch (kind) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "a boolean";
  case Kind::Number:
    return "a number";
  case Kind::String:
    return "a string";
  case Kind::Array:
    return "an array";
  case Kind::Object:
    return "an object";
  }
  return "?";
}

static Error kindError(const std::string &what, const char *expected,
                       Value::Kind got) {
  return Error(what + ": expected " + expected + " but got " +
               Value::kindName(got));
}

bool Value::getBool(const std::string &what) const {
  if (kind != Kind::Bool)
    throw kindError(what, "a boolean", kind);
  return boolean;
}

double Value::getNumber(const std::string &what) const {
  if (kind != Kind::Number)
    throw kindError(what, "a number", kind);
  return number;
}

int64_t Value::getInteger(const std::string &what) const {
  if (kind != Kind::Number)
    throw kindError(what, "an integer", kind);
  if (isInt)
    return integer;
  // Accept 3.0 or 1e3: writers in other languages emit integers that way.
  if (std::isfinite(number) && number == std::floor(number) &&
      std::fabs(number) < 9.2e18)
    return static_cast<int64_t>(number);
  throw Error(what + ": expected an integer but got a number with a fraction");
}

const std::string &Value::getString(const std::string &what) const {
  if (kind != Kind::String)
    throw kindError(what, "a string", kind);
  return string;
}

const std::vector<Value> &Value::getArray(const std::string &what) const {
  if (kind != Kind::Array)
    throw kindError(what, "an array", kind);
  return elements;
}

const std::vector<Value::Member> &
Value::getObject(const std::string &what) const {
  if (kind != Kind::Object)
    throw kindError(what, "an object", kind);
  return members;
}

const Value *Value::find(const std::string &key) const {
  if (kind != Kind::Object)
    return nullptr;
  for (const Member &m : members)
    if (m.first == key)
      return &m.second;
  return nullptr;
}

const Value &Value::at(const std::string &key, const std::string &what) const {
  getObject(what);
  if (const Value *v = find(key))
    return *v;
  throw Error(what + ": missing key '" + key + "'");
}

Value &Value::push(Value v) {
  if (kind != Kind::Array)
    throw kindError("json push", "an array", kind);
  elements.push_back(std::move(v));
  return elements.back();
}

Value &Value::set(const std::string &key, Value v) {
  if (kind != Kind::Object)
    throw kindError("json set", "an object", kind);
  for (Member &m : members)
    if (m.first == key)
      return m.second = std::move(v);
  members.emplace_back(key, std::move(v));
  return members.back().second;
}

size_t Value::size() const {
  if (kind == Kind::Array)
    return elements.size();
  if (kind == Kind::Object)
    return members.size();
  return 0;
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

void json::writeString(const std::string &s, std::string &out) {
  static const char *hex = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (c < 0x20) {
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += ch; // UTF-8 passes through unchanged.
      }
    }
  }
  out += '"';
}

void json::write(const Value &value, std::string &out) {
  switch (value.getKind()) {
  case Value::Kind::Null:
    out += "null";
    return;
  case Value::Kind::Bool:
    out += value.getBool() ? "true" : "false";
    return;
  case Value::Kind::Number: {
    char buf[64];
    std::to_chars_result r;
    if (value.isInteger()) {
      r = std::to_chars(buf, buf + sizeof buf, value.getInteger());
    } else {
      double d = value.getNumber();
      if (!std::isfinite(d)) {
        out += "null";
        return;
      }
      r = std::to_chars(buf, buf + sizeof buf, d);
    }
    out.append(buf, r.ptr);
    return;
  }
  case Value::Kind::String:
    writeString(value.getString(), out);
    return;
  case Value::Kind::Array: {
    out += '[';
    bool first = true;
    for (const Value &e : value.getArray()) {
      if (!first)
        out += ',';
      first = false;
      write(e, out);
    }
    out += ']';
    return;
  }
  case Value::Kind::Object: {
    out += '{';
    bool first = true;
    for (const Value::Member &m : value.getObject()) {
      if (!first)
        out += ',';
      first = false;
      writeString(m.first, out);
      out += ':';
      write(m.second, out);
    }
    out += '}';
    return;
  }
  }
}

std::string json::write(const Value &value) {
  std::string out;
  write(value, out);
  return out;
}
