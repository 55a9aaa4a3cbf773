//===- Lexer.h - Tokenizer for the fm model language ------------*- C++ -*-===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file declares the lexer of the fm language (LANGUAGE.md section 2).
// It turns a buffer into tokens with locations and decides where statements
// end: a newline becomes a `Newline` token unless a bracket is open, the
// line ends in a binary operator, `|>` or `,`, or the next line starts with
// `|>`. Lexical errors (stray characters, bad strings and numbers) are
// reported through the `DiagnosticEngine` and skipped, so the parser never
// sees an error token.
//
//===----------------------------------------------------------------------===//

#ifndef FM_FRONTEND_LEXER_H
#define FM_FRONTEND_LEXER_H

#include "frontend/Diagnostics.h"
#include "frontend/Location.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace fm {

/// The kinds of tokens of the fm language.
enum class TokenKind {
  Eof,
  Newline, ///< The end of a statement.
  Identifier,
  Number,
  String,

  // Keywords.
  KwModel,
  KwTrain,
  KwFn,
  KwInput,
  KwLabel,
  KwParam,
  KwLoss,
  KwOutput,
  KwMetric,
  KwReturn,
  KwTrue,
  KwFalse,

  // Punctuation.
  LParen,       ///< (
  RParen,       ///< )
  LBracket,     ///< [
  RBracket,     ///< ]
  LBrace,       ///< {
  RBrace,       ///< }
  Comma,        ///< ,
  Colon,        ///< :
  Equal,        ///< =
  Plus,         ///< +
  Minus,        ///< -
  Star,         ///< *
  Slash,        ///< /
  At,           ///< @
  Less,         ///< <
  LessEqual,    ///< <=
  Greater,      ///< >
  GreaterEqual, ///< >=
  EqualEqual,   ///< ==
  NotEqual,     ///< !=
  Pipe,         ///< |>
};

/// Returns how a token kind is named in "expected X" messages: the quoted
/// spelling for keywords and punctuation (`')'`), a word otherwise (`name`).
std::string getTokenKindDescription(TokenKind kind);

/// Returns true for the keywords (`model`, ..., `false`).
bool isKeyword(TokenKind kind);

/// One token and its value.
struct Token {
  TokenKind kind = TokenKind::Eof;
  /// Where the token starts. For `Newline` and `Eof`, the position just past
  /// the previous token, which is where a missing token would go.
  Location loc;
  /// The token's text in the buffer (empty for `Newline` and `Eof`).
  llvm::StringRef spelling;
  /// The contents of a string literal, with escapes resolved.
  std::string stringValue;
  /// The value of a number literal.
  double numberValue = 0;
  /// The value of an integer literal (valid when `isInteger`).
  int64_t intValue = 0;
  /// True when a number was written as an integer (no '.', no exponent).
  bool isInteger = false;

  bool is(TokenKind k) const { return kind == k; }
  /// Returns how this token is named in "but got Y" messages: `'relu'`,
  /// `')'`, `string "same"`, `end of line`, `end of file`.
  std::string describe() const;
};

/// Splits a buffer into tokens, one token of lookahead at a time (plus one
/// more through `peekToken`).
class Lexer {
public:
  /// Lexes `buffer`, naming it `fileName` in locations. Errors are reported
  /// to `diag`. The buffer must outlive the lexer and its tokens.
  Lexer(llvm::StringRef buffer, llvm::StringRef fileName,
        DiagnosticEngine &diag);

  /// The current token. Before the first `getNextToken`, the first token.
  const Token &getCurToken() const { return curTok; }
  /// Advances to the next token and returns it.
  const Token &getNextToken();
  /// Returns the token after the current one without consuming anything.
  const Token &peekToken();

  /// Forgets the open brackets, so that newlines end statements again. The
  /// parser calls this when it recovers from a syntax error.
  void resetBrackets() { bracketDepth = 0; }

  /// The file name shared by all locations of this buffer.
  const std::shared_ptr<std::string> &getFile() const { return file; }

private:
  /// Lexes one token starting at `pos`.
  Token lexToken();
  Token lexIdentifier();
  Token lexNumber();
  Token lexString();
  /// Lexes punctuation; returns false if the character starts no token.
  bool lexPunctuation(Token &tok);

  /// Makes a token of `kind` spanning [start, pos).
  Token makeToken(TokenKind kind, size_t start, unsigned startCol);
  /// True when a newline at the current position continues the statement.
  bool newlineContinues() const;
  /// True when the next non-blank, non-comment line starts with `|>`.
  bool nextLineStartsWithPipe() const;
  /// Skips a run of characters that start no token and reports them once.
  void skipInvalidCharacters();

  char peekChar(size_t ahead = 0) const {
    return pos + ahead < buffer.size() ? buffer[pos + ahead] : '\0';
  }
  bool atEnd() const { return pos >= buffer.size(); }
  /// Moves one character forward, tracking line and column.
  void advance();
  Location here() const { return Location(file, line, col); }

  llvm::StringRef buffer;
  std::shared_ptr<std::string> file;
  DiagnosticEngine &diag;

  size_t pos = 0;
  unsigned line = 1;
  unsigned col = 1;
  /// How many '(' and '[' are open.
  unsigned bracketDepth = 0;
  /// The kind of the last token produced (Newline at the start).
  TokenKind lastKind = TokenKind::Newline;
  /// The position just past the last token produced.
  Location lastEnd;

  Token curTok;
  std::optional<Token> peekedTok;
};

} // namespace fm

#endif // FM_FRONTEND_LEXER_H
