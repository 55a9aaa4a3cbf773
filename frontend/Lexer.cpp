//===- Lexer.cpp - Tokenizer for the fm model language --------------------===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file implements the fm lexer: tokens, keywords, number and string
// literals, comments, and the newline rules that end statements.
//
//===----------------------------------------------------------------------===//

#include "frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <cstdlib>

using namespace fm;

//===----------------------------------------------------------------------===//
// Token descriptions
//===----------------------------------------------------------------------===//

namespace {
/// A token kind with a fixed spelling.
struct FixedToken {
  TokenKind kind;
  llvm::StringLiteral spelling;
};
} // namespace

/// Every keyword and punctuation token. Longer punctuation comes before its
/// prefixes (`<=` before `<`), so the first match is the longest.
static constexpr FixedToken kFixedTokens[] = {
    {TokenKind::KwModel, "model"},
    {TokenKind::KwTrain, "train"},
    {TokenKind::KwFn, "fn"},
    {TokenKind::KwInput, "input"},
    {TokenKind::KwLabel, "label"},
    {TokenKind::KwParam, "param"},
    {TokenKind::KwLoss, "loss"},
    {TokenKind::KwOutput, "output"},
    {TokenKind::KwMetric, "metric"},
    {TokenKind::KwReturn, "return"},
    {TokenKind::KwTrue, "true"},
    {TokenKind::KwFalse, "false"},
    {TokenKind::LessEqual, "<="},
    {TokenKind::GreaterEqual, ">="},
    {TokenKind::EqualEqual, "=="},
    {TokenKind::NotEqual, "!="},
    {TokenKind::Pipe, "|>"},
    {TokenKind::LParen, "("},
    {TokenKind::RParen, ")"},
    {TokenKind::LBracket, "["},
    {TokenKind::RBracket, "]"},
    {TokenKind::LBrace, "{"},
    {TokenKind::RBrace, "}"},
    {TokenKind::Comma, ","},
    {TokenKind::Colon, ":"},
    {TokenKind::Equal, "="},
    {TokenKind::Plus, "+"},
    {TokenKind::Minus, "-"},
    {TokenKind::Star, "*"},
    {TokenKind::Slash, "/"},
    {TokenKind::At, "@"},
    {TokenKind::Less, "<"},
    {TokenKind::Greater, ">"},
};

/// Returns the fixed spelling of a keyword or punctuation kind, or "".
static llvm::StringRef getFixedSpelling(TokenKind kind) {
  for (const FixedToken &fixed : kFixedTokens)
    if (fixed.kind == kind)
      return fixed.spelling;
  return "";
}

std::string fm::getTokenKindDescription(TokenKind kind) {
  switch (kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Newline:
    return "end of line";
  case TokenKind::Identifier:
    return "name";
  case TokenKind::Number:
    return "number";
  case TokenKind::String:
    return "string";
  default:
    return ("'" + getFixedSpelling(kind) + "'").str();
  }
}

bool fm::isKeyword(TokenKind kind) {
  return kind >= TokenKind::KwModel && kind <= TokenKind::KwFalse;
}

/// Returns `text` with non-printable bytes, quotes and backslashes escaped,
/// cut to a readable length.
static std::string escapeForMessage(llvm::StringRef text) {
  constexpr size_t maxLength = 32;
  std::string result;
  for (char c : text.take_front(maxLength)) {
    if (c == '"' || c == '\\')
      result += std::string("\\") + c;
    else if (llvm::isPrint(c))
      result += c;
    else
      result += "\\x" + llvm::utohexstr(uint8_t(c), /*LowerCase=*/false, 2);
  }
  if (text.size() > maxLength)
    result += "...";
  return result;
}

std::string Token::describe() const {
  switch (kind) {
  case TokenKind::Eof:
  case TokenKind::Newline:
    return getTokenKindDescription(kind);
  case TokenKind::String:
    return "string \"" + escapeForMessage(stringValue) + "\"";
  default:
    return "'" + escapeForMessage(spelling) + "'";
  }
}

//===----------------------------------------------------------------------===//
// Lexer
//===----------------------------------------------------------------------===//

Lexer::Lexer(llvm::StringRef buffer, llvm::StringRef fileName,
             DiagnosticEngine &diag)
    : buffer(buffer), file(std::make_shared<std::string>(fileName.str())),
      diag(diag) {
  lastEnd = here();
  curTok = lexToken();
}

const Token &Lexer::getNextToken() {
  if (peekedTok) {
    curTok = std::move(*peekedTok);
    peekedTok.reset();
  } else {
    curTok = lexToken();
  }
  return curTok;
}

const Token &Lexer::peekToken() {
  if (!peekedTok)
    peekedTok = lexToken();
  return *peekedTok;
}

void Lexer::advance() {
  if (atEnd())
    return;
  if (buffer[pos] == '\n') {
    ++line;
    col = 1;
  } else {
    ++col;
  }
  ++pos;
}

static bool isIdentifierStart(char c) { return llvm::isAlpha(c) || c == '_'; }
static bool isIdentifierChar(char c) { return llvm::isAlnum(c) || c == '_'; }
static bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/// True when a statement cannot end after a token of this kind.
static bool continuesLine(TokenKind kind) {
  switch (kind) {
  case TokenKind::Plus:
  case TokenKind::Minus:
  case TokenKind::Star:
  case TokenKind::Slash:
  case TokenKind::At:
  case TokenKind::Less:
  case TokenKind::LessEqual:
  case TokenKind::Greater:
  case TokenKind::GreaterEqual:
  case TokenKind::EqualEqual:
  case TokenKind::NotEqual:
  case TokenKind::Pipe:
  case TokenKind::Comma:
    return true;
  default:
    return false;
  }
}

bool Lexer::newlineContinues() const {
  // Consecutive newlines (and newlines before the first token) collapse.
  return bracketDepth > 0 || continuesLine(lastKind) ||
         lastKind == TokenKind::Newline;
}

bool Lexer::nextLineStartsWithPipe() const {
  size_t p = pos;
  while (p < buffer.size()) {
    char c = buffer[p];
    if (isBlank(c) || c == '\n') {
      ++p;
    } else if (c == '/' && p + 1 < buffer.size() && buffer[p + 1] == '/') {
      while (p < buffer.size() && buffer[p] != '\n')
        ++p;
    } else {
      return c == '|' && p + 1 < buffer.size() && buffer[p + 1] == '>';
    }
  }
  return false;
}

Token Lexer::makeToken(TokenKind kind, size_t start, unsigned startCol) {
  Token tok;
  tok.kind = kind;
  tok.loc = Location(file, line, startCol);
  tok.spelling = buffer.slice(start, pos);
  return tok;
}

Token Lexer::lexToken() {
  while (true) {
    if (atEnd()) {
      Token tok;
      tok.kind = TokenKind::Eof;
      tok.loc = lastEnd;
      return tok;
    }
    char c = peekChar();
    if (isBlank(c)) {
      advance();
      continue;
    }
    // Comments run to the end of the line.
    if (c == '/' && peekChar(1) == '/') {
      while (!atEnd() && peekChar() != '\n')
        advance();
      continue;
    }
    if (c == '\n') {
      bool continues = newlineContinues();
      advance();
      if (continues)
        continue;
      if (nextLineStartsWithPipe()) {
        // Skip straight to the `|>` so that runs of blank lines before it
        // are scanned only once.
        while (!(peekChar() == '|' && peekChar(1) == '>'))
          advance();
        continue;
      }
      Token tok;
      tok.kind = TokenKind::Newline;
      tok.loc = lastEnd;
      lastKind = TokenKind::Newline;
      return tok;
    }

    Token tok;
    if (isIdentifierStart(c)) {
      tok = lexIdentifier();
    } else if (llvm::isDigit(c) || (c == '.' && llvm::isDigit(peekChar(1)))) {
      tok = lexNumber();
    } else if (c == '"') {
      tok = lexString();
    } else if (!lexPunctuation(tok)) {
      skipInvalidCharacters();
      continue;
    }
    lastKind = tok.kind;
    lastEnd = here();
    return tok;
  }
}

Token Lexer::lexIdentifier() {
  size_t start = pos;
  unsigned startCol = col;
  while (isIdentifierChar(peekChar()))
    advance();
  llvm::StringRef text = buffer.slice(start, pos);
  TokenKind kind = TokenKind::Identifier;
  for (const FixedToken &fixed : kFixedTokens)
    if (isKeyword(fixed.kind) && fixed.spelling == text)
      kind = fixed.kind;
  return makeToken(kind, start, startCol);
}

/// Describes the character `c` for "but got Y" messages.
static std::string describeChar(char c) {
  if (c == '\n')
    return "end of line";
  return "'" + escapeForMessage(llvm::StringRef(&c, 1)) + "'";
}

/// True when `rest` starts with a token, a comment or whitespace.
static bool startsToken(llvm::StringRef rest) {
  char c = rest.front();
  if (isBlank(c) || c == '\n' || isIdentifierChar(c) || c == '"')
    return true;
  if (c == '.' && rest.size() > 1 && llvm::isDigit(rest[1]))
    return true;
  for (const FixedToken &fixed : kFixedTokens)
    if (!isKeyword(fixed.kind) && rest.starts_with(fixed.spelling))
      return true;
  return false;
}

Token Lexer::lexNumber() {
  size_t start = pos;
  unsigned startCol = col;
  bool isInteger = true;
  while (llvm::isDigit(peekChar()))
    advance();
  if (peekChar() == '.' && llvm::isDigit(peekChar(1))) {
    isInteger = false;
    advance();
    while (llvm::isDigit(peekChar()))
      advance();
  }
  size_t mantissaEnd = pos;
  if (peekChar() == 'e' || peekChar() == 'E') {
    isInteger = false;
    advance();
    if (peekChar() == '+' || peekChar() == '-')
      advance();
    if (!llvm::isDigit(peekChar())) {
      diag.error(here(), "expected exponent digits but got " +
                             (atEnd() ? std::string("end of file")
                                      : describeChar(peekChar())));
    } else {
      while (llvm::isDigit(peekChar()))
        advance();
      mantissaEnd = pos;
    }
  }
  Token tok = makeToken(TokenKind::Number, start, startCol);
  tok.isInteger = isInteger;

  // A number directly followed by letters (`3x`, `1.5f`) is an error.
  if (isIdentifierChar(peekChar())) {
    size_t suffixStart = pos;
    Location suffixLoc = here();
    while (isIdentifierChar(peekChar()))
      advance();
    diag.error(suffixLoc, "invalid suffix '" +
                              escapeForMessage(buffer.slice(suffixStart, pos)) +
                              "' on number");
  }

  llvm::StringRef digits = buffer.slice(start, mantissaEnd);
  if (isInteger) {
    if (digits.getAsInteger(10, tok.intValue)) {
      diag.error(tok.loc, "integer '" + escapeForMessage(digits) +
                              "' is too large; the limit is 2^63-1");
      tok.intValue = 0;
    }
    tok.numberValue = double(tok.intValue);
  } else {
    std::string text = digits.str();
    tok.numberValue = std::strtod(text.c_str(), nullptr);
    if (std::isinf(tok.numberValue)) {
      diag.error(tok.loc, "number '" + escapeForMessage(digits) +
                              "' is too large for a 64-bit float");
      tok.numberValue = 0;
    }
  }
  return tok;
}

Token Lexer::lexString() {
  size_t start = pos;
  unsigned startCol = col;
  Location startLoc = here();
  std::string value;
  advance(); // the opening quote
  while (true) {
    if (atEnd() || peekChar() == '\n') {
      diag.error(startLoc, "unterminated string; expected '\"' before the "
                           "end of the line");
      break;
    }
    char c = peekChar();
    if (c == '"') {
      advance();
      break;
    }
    if (c == '\\') {
      char next = peekChar(1);
      if (next == '"' || next == '\\') {
        value += next;
        advance();
        advance();
        continue;
      }
      if (pos + 1 < buffer.size() && next != '\n') {
        diag.error(here(), "unknown escape sequence '\\" +
                               escapeForMessage(llvm::StringRef(&next, 1)) +
                               "'; only '\\\"' and '\\\\' are allowed");
        value += next;
        advance();
        advance();
        continue;
      }
    }
    value += c;
    advance();
  }
  Token tok = makeToken(TokenKind::String, start, startCol);
  tok.stringValue = std::move(value);
  return tok;
}

bool Lexer::lexPunctuation(Token &tok) {
  size_t start = pos;
  unsigned startCol = col;
  llvm::StringRef rest = buffer.drop_front(pos);
  const FixedToken *match = nullptr;
  for (const FixedToken &fixed : kFixedTokens) {
    if (!isKeyword(fixed.kind) && rest.starts_with(fixed.spelling)) {
      match = &fixed;
      break;
    }
  }
  if (!match)
    return false;
  switch (match->kind) {
  case TokenKind::LParen:
  case TokenKind::LBracket:
    ++bracketDepth;
    break;
  case TokenKind::RParen:
  case TokenKind::RBracket:
    if (bracketDepth > 0)
      --bracketDepth;
    break;
  case TokenKind::LBrace:
  case TokenKind::RBrace:
    // Braces never appear inside expressions: they close any open bracket,
    // which keeps an unbalanced '(' from swallowing the rest of the file.
    bracketDepth = 0;
    break;
  default:
    break;
  }
  for (size_t i = 0; i < match->spelling.size(); ++i)
    advance();
  tok = makeToken(match->kind, start, startCol);
  return true;
}

void Lexer::skipInvalidCharacters() {
  diag.error(here(), "unexpected character " + describeChar(peekChar()));
  // Skip the whole run of characters that start no token, so that a blob of
  // binary data gives one error rather than one per byte.
  advance();
  while (!atEnd() && !startsToken(buffer.drop_front(pos)))
    advance();
}
