//===- JsonParser.cpp - A strict JSON parser --------------------*- C++ -*-===//
//
// This file implements json::parse, a recursive-descent parser for
// RFC 8259 JSON. Numbers are read with std::from_chars, so the locale
// cannot change what a descriptor or checkpoint header means; every error
// names the byte offset where parsing stopped.
//
//===----------------------------------------------------------------------===//
#include "runtime/Json.h"

#include <cctype>
#include <charconv>
#include <cstring>

using namespace fm;
using namespace fm::json;

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

namespace {
class Parser {
public:
  explicit Parser(const std::string &text) : text(text) {}

  Value parseDocument() {
    skipSpace();
    Value v = parseValue(0);
    skipSpace();
    if (pos != text.size())
      fail("expected end of input after the JSON value");
    return v;
  }

private:
  static constexpr int kMaxDepth = 256;
  const std::string &text;
  size_t pos = 0;

  [[noreturn]] void fail(const std::string &message) {
    throw ParseError(
        "invalid json at byte " + std::to_string(pos) + ": " + message, pos);
  }

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  bool consume(char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }

  void expectLiteral(const char *word) {
    size_t n = std::strlen(word);
    if (text.compare(pos, n, word) != 0)
      fail("unexpected character");
    pos += n;
  }

  // value := object | array | string | number | true | false | null
  Value parseValue(int depth) {
    if (depth > kMaxDepth)
      fail("nesting deeper than 256 levels");
    if (pos >= text.size())
      fail("unexpected end of input; expected a value");
    char c = text[pos];
    switch (c) {
    case '{':
      return parseObject(depth);
    case '[':
      return parseArray(depth);
    case '"':
      return Value(parseString());
    case 't':
      expectLiteral("true");
      return Value(true);
    case 'f':
      expectLiteral("false");
      return Value(false);
    case 'n':
      expectLiteral("null");
      return Value();
    default:
      if (c == '-' || (c >= '0' && c <= '9'))
        return parseNumber();
      fail(std::string("unexpected character '") + c + "'; expected a value");
    }
  }

  // object := '{' (string ':' value (',' string ':' value)*)? '}'
  Value parseObject(int depth) {
    ++pos;
    Value obj = Value::object();
    skipSpace();
    if (consume('}'))
      return obj;
    while (true) {
      skipSpace();
      if (pos >= text.size() || text[pos] != '"')
        fail("expected a string key");
      std::string key = parseString();
      skipSpace();
      if (!consume(':'))
        fail("expected ':' after an object key");
      skipSpace();
      if (obj.find(key))
        fail("duplicate key '" + key + "'");
      obj.set(key, parseValue(depth + 1));
      skipSpace();
      if (consume('}'))
        return obj;
      if (!consume(','))
        fail("expected ',' or '}' in an object");
    }
  }

  // array := '[' (value (',' value)*)? ']'
  Value parseArray(int depth) {
    ++pos;
    Value arr = Value::array();
    skipSpace();
    if (consume(']'))
      return arr;
    while (true) {
      skipSpace();
      arr.push(parseValue(depth + 1));
      skipSpace();
      if (consume(']'))
        return arr;
      if (!consume(','))
        fail("expected ',' or ']' in an array");
    }
  }

  unsigned parseHex4() {
    if (pos + 4 > text.size())
      fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text[pos++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else {
        --pos;
        fail("invalid hex digit in \\u escape");
      }
    }
    return v;
  }

  static void appendUtf8(unsigned cp, std::string &out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // string := '"' (char | '\' escape)* '"'
  std::string parseString() {
    ++pos;
    std::string out;
    while (true) {
      if (pos >= text.size())
        fail("unterminated string");
      char c = text[pos];
      if (c == '"') {
        ++pos;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        fail("control character in a string");
      if (c != '\\') {
        out += c;
        ++pos;
        continue;
      }
      ++pos;
      if (pos >= text.size())
        fail("unterminated escape");
      char e = text[pos++];
      switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        unsigned cp = parseHex4();
        if (cp >= 0xD800 && cp < 0xDC00) {
          // A high surrogate must be followed by an escaped low one.
          if (text.compare(pos, 2, "\\u") != 0)
            fail("unpaired surrogate in \\u escape");
          pos += 2;
          unsigned lo = parseHex4();
          if (lo < 0xDC00 || lo >= 0xE000)
            fail("invalid low surrogate in \\u escape");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          fail("unpaired surrogate in \\u escape");
        }
        appendUtf8(cp, out);
        break;
      }
      default:
        --pos;
        fail(std::string("invalid escape '\\") + e + "'");
      }
    }
  }

  // number := '-'? int frac? exp?
  Value parseNumber() {
    size_t start = pos;
    bool isInteger = true;
    consume('-');
    if (consume('0')) {
      // No leading zeros.
    } else if (pos < text.size() && text[pos] >= '1' && text[pos] <= '9') {
      while (pos < text.size() && std::isdigit((unsigned char)text[pos]))
        ++pos;
    } else {
      fail("expected a digit");
    }
    if (consume('.')) {
      isInteger = false;
      if (pos >= text.size() || !std::isdigit((unsigned char)text[pos]))
        fail("expected a digit after '.'");
      while (pos < text.size() && std::isdigit((unsigned char)text[pos]))
        ++pos;
    }
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
      isInteger = false;
      ++pos;
      if (!consume('+'))
        consume('-');
      if (pos >= text.size() || !std::isdigit((unsigned char)text[pos]))
        fail("expected a digit in the exponent");
      while (pos < text.size() && std::isdigit((unsigned char)text[pos]))
        ++pos;
    }
    const char *first = text.data() + start, *last = text.data() + pos;
    if (isInteger) {
      int64_t i = 0;
      auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc() && r.ptr == last)
        return Value(i);
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range) {
      pos = start;
      fail("number out of range");
    }
    return Value(d);
  }
};
} // namespace

Value json::parse(const std::string &text) {
  return Parser(text).parseDocument();
}
