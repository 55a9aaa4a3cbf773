//===- JsonTest.cpp - Tests of the runtime's JSON parser and writer -------===//
//
// Values, escapes, exact integers, round trips, and errors that name the
// byte offset where parsing stopped.
//
//===----------------------------------------------------------------------===//
#include "runtime/Json.h"
#include "test/unit/runtime/TestSupport.h"

#include <cmath>
#include <limits>

using namespace fm;
using json::Value;

TEST(JsonTest, ParsesEveryKind) {
  Value v = json::parse(
      R"( {"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d"}, "e": []} )");
  ASSERT_TRUE(v.isObject());
  const auto &a = v.at("a", "top").getArray();
  ASSERT_EQ(a.size(), 6u);
  EXPECT_TRUE(a[0].isInteger());
  EXPECT_EQ(a[0].getInteger(), 1);
  EXPECT_FALSE(a[1].isInteger());
  EXPECT_DOUBLE_EQ(a[1].getNumber(), -2.5);
  EXPECT_DOUBLE_EQ(a[2].getNumber(), 300);
  EXPECT_EQ(a[2].getInteger(),
            300); // 3e2 is accepted where an integer is asked
  EXPECT_TRUE(a[3].getBool());
  EXPECT_FALSE(a[4].getBool());
  EXPECT_TRUE(a[5].isNull());
  EXPECT_EQ(v.at("b", "top").at("c", "b").getString(), "d");
  EXPECT_EQ(v.at("e", "top").size(), 0u);
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(JsonTest, KeepsLargeIntegersExact) {
  Value v = json::parse(
      "[9007199254740993, -9223372036854775808, 18446744073709551616]");
  EXPECT_EQ(v.getArray()[0].getInteger(), 9007199254740993LL);
  EXPECT_EQ(v.getArray()[1].getInteger(), std::numeric_limits<int64_t>::min());
  // Too large for int64: kept as a double.
  EXPECT_FALSE(v.getArray()[2].isInteger());
  EXPECT_DOUBLE_EQ(v.getArray()[2].getNumber(), 18446744073709551616.0);
}

TEST(JsonTest, DecodesEscapes) {
  Value v =
      json::parse(R"("q\" b\\ s\/ \b\f\n\r\t \u00e9 \u20ac \ud83d\ude00")");
  EXPECT_EQ(v.getString(),
            "q\" b\\ s/ \b\f\n\r\t \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(JsonTest, WriterRoundTrips) {
  Value v = Value::object();
  v.set("name", Value("tab\there \"quoted\" \x01"));
  Value arr = Value::array();
  arr.push(Value(0.1));
  arr.push(Value(int64_t(1) << 60));
  arr.push(Value(1e-300));
  arr.push(Value(true));
  arr.push(Value());
  v.set("values", arr);
  std::string text = json::write(v);
  EXPECT_EQ(text.find('\t'), std::string::npos);
  EXPECT_NE(text.find("\\u0001"), std::string::npos);
  Value back = json::parse(text);
  EXPECT_EQ(json::write(back), text);
  EXPECT_EQ(back.at("values", "").getArray()[0].getNumber(), 0.1);
  EXPECT_EQ(back.at("values", "").getArray()[1].getInteger(), int64_t(1) << 60);
  EXPECT_EQ(back.at("values", "").getArray()[2].getNumber(), 1e-300);
  // Keys keep insertion order; set replaces in place.
  v.set("name", Value("x"));
  EXPECT_EQ(json::write(v).rfind("{\"name\":\"x\"", 0), 0u);
}

TEST(JsonTest, WritesNonFiniteAsNull) {
  Value arr = Value::array();
  arr.push(Value(std::numeric_limits<double>::quiet_NaN()));
  arr.push(Value(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(json::write(arr), "[null,null]");
}

static void expectParseError(const std::string &text,
                             const std::string &message, size_t offset) {
  try {
    json::parse(text);
    ADD_FAILURE() << "parsed invalid json: " << text;
  } catch (const json::ParseError &e) {
    EXPECT_EQ(e.getOffset(), offset) << e.what();
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("at byte " + std::to_string(offset)),
              std::string::npos)
        << e.what();
  }
}

TEST(JsonTest, ErrorsNameTheByteOffset) {
  expectParseError("[1, 2", "expected ',' or ']'", 5);
  expectParseError("[1,", "unexpected end of input; expected a value", 3);
  expectParseError("[1 2]", "expected ',' or ']'", 3);
  expectParseError("{\"a\" 1}", "expected ':'", 5);
  expectParseError("{\"a\": 1, \"a\": 2}", "duplicate key 'a'", 14);
  expectParseError("\"abc", "unterminated string", 4);
  expectParseError("\"a\\x\"", "invalid escape", 3);
  expectParseError("\"\\ud800\"", "unpaired surrogate", 7);
  expectParseError("01", "expected end of input", 1);
  expectParseError("-", "expected a digit", 1);
  expectParseError("1.", "expected a digit after '.'", 2);
  expectParseError("tru", "unexpected character", 0);
  expectParseError("{} x", "expected end of input", 3);
  expectParseError("\"a\nb\"", "control character", 2);
  expectParseError("", "unexpected end of input", 0);
  expectParseError("1e999", "out of range", 0);
}

TEST(JsonTest, RejectsDeepNesting) {
  std::string deep(300, '[');
  deep += std::string(300, ']');
  EXPECT_FM_ERROR(json::parse(deep), "nesting deeper than 256");
  std::string ok(200, '[');
  ok += std::string(200, ']');
  EXPECT_NO_THROW(json::parse(ok));
}

TEST(JsonTest, AccessorsNameWhatWasExpected) {
  Value v = json::parse(R"({"n": 1.5, "s": "x"})");
  EXPECT_FM_ERROR(
      v.at("n", "obj").getInteger("obj.n"),
      "obj.n: expected an integer but got a number with a fraction");
  EXPECT_FM_ERROR(v.at("s", "obj").getNumber("obj.s"),
                  "obj.s: expected a number but got a string");
  EXPECT_FM_ERROR(v.at("zz", "obj"), "obj: missing key 'zz'");
}
