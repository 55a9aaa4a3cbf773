//===- LexerTest.cpp - Tests for the fm lexer -----------------------------===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file tests tokens, literals, locations and the newline rules that end
// statements (LANGUAGE.md section 2).
//
//===----------------------------------------------------------------------===//

#include "frontend/Lexer.h"

#include "gtest/gtest.h"

#include <vector>

using namespace fm;

namespace {

/// Lexes `source` and returns its tokens up to (not including) Eof.
struct Lexed {
  explicit Lexed(llvm::StringRef source) : diag(sourceMgr, os) {
    Lexer lexer(source, "test.fm", diag);
    for (Token tok = lexer.getCurToken(); !tok.is(TokenKind::Eof);
         tok = lexer.getNextToken())
      tokens.push_back(tok);
  }
  /// The token kinds as a compact string: identifiers as `id`, newlines
  /// as `;`, numbers as `#`, strings as `$`, others by spelling.
  std::string shape() const {
    std::string result;
    for (const Token &tok : tokens) {
      if (!result.empty())
        result += ' ';
      switch (tok.kind) {
      case TokenKind::Identifier:
        result += "id";
        break;
      case TokenKind::Newline:
        result += ";";
        break;
      case TokenKind::Number:
        result += "#";
        break;
      case TokenKind::String:
        result += "$";
        break;
      default:
        result += tok.spelling.str();
      }
    }
    return result;
  }

  llvm::SourceMgr sourceMgr;
  std::string errors;
  llvm::raw_string_ostream os{errors};
  DiagnosticEngine diag;
  std::vector<Token> tokens;
};

TEST(LexerTest, TokensAndLocations) {
  Lexed lexed("model M {\n  h = x |> f(1, k=2) @ w <= 3 != 4\n}");
  EXPECT_EQ(lexed.shape(),
            "model id { ; id = id |> id ( # , id = # ) @ id <= # != # ; }");
  EXPECT_EQ(lexed.diag.getErrorCount(), 0u);
  const Token &h = lexed.tokens[4];
  EXPECT_EQ(h.spelling, "h");
  EXPECT_EQ(h.loc.line, 2u);
  EXPECT_EQ(h.loc.col, 3u);
  EXPECT_EQ(h.loc.getFile(), "test.fm");
  EXPECT_TRUE(lexed.tokens[0].is(TokenKind::KwModel));
}

TEST(LexerTest, Keywords) {
  Lexed lexed("model train fn input label param loss output metric return "
              "true false models");
  ASSERT_EQ(lexed.tokens.size(), 13u);
  for (unsigned i = 0; i < 12; ++i)
    EXPECT_TRUE(isKeyword(lexed.tokens[i].kind)) << i;
  EXPECT_TRUE(lexed.tokens[12].is(TokenKind::Identifier));
}

TEST(LexerTest, Numbers) {
  Lexed lexed("42 1e-3 0.5 .5 2E+3 007");
  ASSERT_EQ(lexed.tokens.size(), 6u);
  EXPECT_TRUE(lexed.tokens[0].isInteger);
  EXPECT_EQ(lexed.tokens[0].intValue, 42);
  EXPECT_FALSE(lexed.tokens[1].isInteger);
  EXPECT_DOUBLE_EQ(lexed.tokens[1].numberValue, 1e-3);
  EXPECT_DOUBLE_EQ(lexed.tokens[2].numberValue, 0.5);
  EXPECT_DOUBLE_EQ(lexed.tokens[3].numberValue, 0.5);
  EXPECT_FALSE(lexed.tokens[4].isInteger);
  EXPECT_DOUBLE_EQ(lexed.tokens[4].numberValue, 2000);
  EXPECT_EQ(lexed.tokens[5].intValue, 7);
  EXPECT_EQ(lexed.diag.getErrorCount(), 0u);
}

TEST(LexerTest, Strings) {
  Lexed lexed(R"("a \"b\" \\ c" "")");
  ASSERT_EQ(lexed.tokens.size(), 2u);
  EXPECT_EQ(lexed.tokens[0].stringValue, "a \"b\" \\ c");
  EXPECT_EQ(lexed.tokens[1].stringValue, "");
  EXPECT_EQ(lexed.diag.getErrorCount(), 0u);
}

TEST(LexerTest, CommentsAndBlankLines) {
  Lexed lexed("// leading\n\n a // trailing\n\n\n// only\n b\n");
  EXPECT_EQ(lexed.shape(), "id ; id ;");
}

TEST(LexerTest, NewlineEndsStatement) {
  EXPECT_EQ(Lexed("a = b\nc = d").shape(), "id = id ; id = id");
  // '=' and ':' are not binary operators: the statement ends.
  EXPECT_EQ(Lexed("a =\nb").shape(), "id = ; id");
  EXPECT_EQ(Lexed("a:\nb").shape(), "id : ; id");
}

TEST(LexerTest, NewlineContinuations) {
  // An open bracket.
  EXPECT_EQ(Lexed("f(a,\n b)\nc").shape(), "id ( id , id ) ; id");
  EXPECT_EQ(Lexed("[a\n b]\nc").shape(), "[ id id ] ; id");
  // A trailing binary operator, '|>' or ','.
  for (const char *op :
       {"+", "-", "*", "/", "@", "<", "<=", ">", ">=", "==", "!=", "|>", ","}) {
    std::string source = std::string("a ") + op + "\n b\nc";
    EXPECT_EQ(Lexed(source).shape(), std::string("id ") + op + " id ; id")
        << op;
  }
  // A leading '|>' on the next line, even after blank and comment lines.
  EXPECT_EQ(Lexed("a\n  |> f\nc").shape(), "id |> id ; id");
  EXPECT_EQ(Lexed("a // x\n\n  // y\n\n  |> f").shape(), "id |> id");
  // A leading binary operator does not continue.
  EXPECT_EQ(Lexed("a\n+ b").shape(), "id ; + id");
}

TEST(LexerTest, BracesResetBrackets) {
  // An unclosed '(' does not swallow the newlines after a '}'.
  EXPECT_EQ(Lexed("f(\n}\na\nb").shape(), "id ( } ; id ; id");
}

TEST(LexerTest, Errors) {
  Lexed lexed("a $ b\n\"open\nc 3x 1e");
  EXPECT_EQ(lexed.diag.getErrorCount(), 4u);
  EXPECT_NE(lexed.errors.find("test.fm:1:3: error: unexpected character '$'"),
            std::string::npos)
      << lexed.errors;
  EXPECT_NE(lexed.errors.find("test.fm:2:1: error: unterminated string"),
            std::string::npos);
  EXPECT_NE(lexed.errors.find("test.fm:3:4: error: invalid suffix 'x' on "
                              "number"),
            std::string::npos);
  EXPECT_NE(lexed.errors.find("test.fm:3:8: error: expected exponent digits "
                              "but got end of file"),
            std::string::npos);
  // The lexer skips what it reported: no token is lost or invented.
  EXPECT_EQ(lexed.shape(), "id id ; $ ; id # #");
}

TEST(LexerTest, PeekDoesNotConsume) {
  llvm::SourceMgr sourceMgr;
  std::string errors;
  llvm::raw_string_ostream os(errors);
  DiagnosticEngine diag(sourceMgr, os);
  Lexer lexer("a = b", "t.fm", diag);
  EXPECT_EQ(lexer.getCurToken().spelling, "a");
  EXPECT_TRUE(lexer.peekToken().is(TokenKind::Equal));
  EXPECT_EQ(lexer.getCurToken().spelling, "a");
  EXPECT_TRUE(lexer.getNextToken().is(TokenKind::Equal));
  EXPECT_EQ(lexer.getNextToken().spelling, "b");
  EXPECT_TRUE(lexer.getNextToken().is(TokenKind::Eof));
  EXPECT_TRUE(lexer.getNextToken().is(TokenKind::Eof));
}

} // namespace
