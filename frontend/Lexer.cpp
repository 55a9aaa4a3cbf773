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
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <cstdlib>

using namespace fm;

//===----------------------------------------------------------------------===//
// Token descriptions
//===----------------------------------------------------------------------===//

/// Returns the fixed spelling of a keyword or punctuation kind, or "".
static llvm::StringRef getFixedSpelling(TokenKind kind) {
  switch (kind) {
  case TokenKind::KwModel: return "model";
  case TokenKind::KwTrain: return "train";
  case TokenKind::KwFn: return "fn";
  case TokenKind::KwInput: return "input";
  case TokenKind::KwLabel: return "label";
  case TokenKind::KwParam: return "param";
  case TokenKind::KwLoss: return "loss";
  case TokenKind::KwOutput: return "output";
  case TokenKind::KwMetric: return "metric";
  case TokenKind::KwReturn: return "return";
  case TokenKind::KwTrue: return "true";
  case TokenKind::KwFalse: return "false";
  case TokenKind::LParen: return "(";
  case TokenKind::RParen: return ")";
  case TokenKind::LBracket: return "[";
  case TokenKind::RBracket: return "]";
  case TokenKind::LBrace: return "{";
  case TokenKind::RBrace: return "}";
  case TokenKind::Comma: return ",";
  case TokenKind::Colon: return ":";
  case TokenKind::Equal: return "=";
  case TokenKind::Plus: return "+";
  case TokenKind::Minus: return "-";
  case TokenKind::Star: return "*";
  case TokenKind::Slash: return "/";
  case TokenKind::At: return "@";
  case TokenKind::Less: return "<";
  case TokenKind::LessEqual: return "<=";
  case TokenKind::Greater: return ">";
  case TokenKind::GreaterEqual: return ">=";
  case TokenKind::EqualEqual: return "==";
  case TokenKind::NotEqual: return "!=";
  case TokenKind::Pipe: return "|>";
  default: return "";
  }
}

std::string fm::getTokenKindDescription(TokenKind kind) {
  switch (kind) {
  case TokenKind::Eof: return "end of file";
  case TokenKind::Newline: return "end of line";
  case TokenKind::Identifier: return "name";
  case TokenKind::Number: return "number";
  case TokenKind::String: return "string";
  default: return ("'" + getFixedSpelling(kind) + "'").str();
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
  TokenKind kind = llvm::StringSwitch<TokenKind>(text)
                       .Case("model", TokenKind::KwModel)
                       .Case("train", TokenKind::KwTrain)
                       .Case("fn", TokenKind::KwFn)
                       .Case("input", TokenKind::KwInput)
                       .Case("label", TokenKind::KwLabel)
                       .Case("param", TokenKind::KwParam)
                       .Case("loss", TokenKind::KwLoss)
                       .Case("output", TokenKind::KwOutput)
                       .Case("metric", TokenKind::KwMetric)
                       .Case("return", TokenKind::KwReturn)
                       .Case("true", TokenKind::KwTrue)
                       .Case("false", TokenKind::KwFalse)
                       .Default(TokenKind::Identifier);
  return makeToken(kind, start, startCol);
}

/// Describes the character `c` for "but got Y" messages.
static std::string describeChar(char c) {
  if (c == '\n')
    return "end of line";
  return "'" + escapeForMessage(llvm::StringRef(&c, 1)) + "'";
}

/// True when `c` (followed by `next`) can start a token, a comment or
/// whitespace.
static bool startsToken(char c, char next) {
  if (isBlank(c) || c == '\n' || isIdentifierChar(c) || c == '"')
    return true;
  switch (c) {
  case '(': case ')': case '[': case ']': case '{': case '}': case ',':
  case ':': case '=': case '+': case '-': case '*': case '/': case '@':
  case '<': case '>':
    return true;
  case '!':
    return next == '=';
  case '|':
    return next == '>';
  case '.':
    return llvm::isDigit(next);
  default:
    return false;
  }
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
  char c = peekChar();
  char next = peekChar(1);
  TokenKind kind;
  unsigned length = 1;
  switch (c) {
  case '(': kind = TokenKind::LParen; ++bracketDepth; break;
  case '[': kind = TokenKind::LBracket; ++bracketDepth; break;
  case ')':
  case ']':
    kind = c == ')' ? TokenKind::RParen : TokenKind::RBracket;
    if (bracketDepth > 0)
      --bracketDepth;
    break;
  // Braces never appear inside expressions: they close any open bracket,
  // which keeps an unbalanced '(' from swallowing the rest of the file.
  case '{': kind = TokenKind::LBrace; bracketDepth = 0; break;
  case '}': kind = TokenKind::RBrace; bracketDepth = 0; break;
  case ',': kind = TokenKind::Comma; break;
  case ':': kind = TokenKind::Colon; break;
  case '+': kind = TokenKind::Plus; break;
  case '-': kind = TokenKind::Minus; break;
  case '*': kind = TokenKind::Star; break;
  case '/': kind = TokenKind::Slash; break;
  case '@': kind = TokenKind::At; break;
  case '=':
    kind = next == '=' ? TokenKind::EqualEqual : TokenKind::Equal;
    length = next == '=' ? 2 : 1;
    break;
  case '<':
    kind = next == '=' ? TokenKind::LessEqual : TokenKind::Less;
    length = next == '=' ? 2 : 1;
    break;
  case '>':
    kind = next == '=' ? TokenKind::GreaterEqual : TokenKind::Greater;
    length = next == '=' ? 2 : 1;
    break;
  case '!':
    if (next != '=')
      return false;
    kind = TokenKind::NotEqual;
    length = 2;
    break;
  case '|':
    if (next != '>')
      return false;
    kind = TokenKind::Pipe;
    length = 2;
    break;
  default:
    return false;
  }
  for (unsigned i = 0; i < length; ++i)
    advance();
  tok = makeToken(kind, start, startCol);
  return true;
}

void Lexer::skipInvalidCharacters() {
  diag.error(here(), "unexpected character " + describeChar(peekChar()));
  // Skip the whole run of characters that start no token, so that a blob of
  // binary data gives one error rather than one per byte.
  advance();
  while (!atEnd() && !startsToken(peekChar(), peekChar(1)))
    advance();
}
