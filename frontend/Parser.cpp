//===- Parser.cpp - Recursive-descent parser for fm -----------------------===//
//
// Part of the fm project: a compiler and runtime for deep-learning models.
//
//===----------------------------------------------------------------------===//
//
// This file implements the top of the fm parser: definitions (`model`,
// `train`, `fn`), statements, types and error recovery. Expressions are in
// ParserExpr.cpp.
//
//===----------------------------------------------------------------------===//

#include "frontend/Parser.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace fm;

//===----------------------------------------------------------------------===//
// Helpers and error recovery
//===----------------------------------------------------------------------===//

void Parser::errorExpected(const llvm::Twine &what) {
  diag.error(cur().loc, "expected " + what + " but got " + cur().describe());
}

void Parser::noteOpening(const Location &openLoc, llvm::StringRef bracket) {
  // On the same line the caret of the error already shows the bracket.
  if (openLoc.line != cur().loc.line)
    diag.note(openLoc, "to match this '" + bracket + "'");
}

bool Parser::expect(TokenKind kind) {
  if (cur().is(kind)) {
    consume();
    return true;
  }
  errorExpected(getTokenKindDescription(kind));
  return false;
}

bool Parser::parseName(std::string &name, Location &loc, llvm::StringRef what) {
  if (!cur().is(TokenKind::Identifier)) {
    errorExpected(what);
    return false;
  }
  name = cur().spelling.str();
  loc = cur().loc;
  consume();
  return true;
}

bool Parser::expectStatementEnd() {
  if (cur().is(TokenKind::Newline)) {
    consume();
    return true;
  }
  if (cur().is(TokenKind::RBrace) || cur().is(TokenKind::Eof))
    return true;
  errorExpected("end of line");
  return false;
}

void Parser::skipStatement() {
  // Brackets left open by the bad statement must not hide the newline.
  lexer.resetBrackets();
  unsigned braces = 0;
  while (!cur().is(TokenKind::Eof)) {
    if (braces == 0 &&
        (cur().is(TokenKind::Newline) || cur().is(TokenKind::RBrace)))
      return;
    if (cur().is(TokenKind::LBrace))
      ++braces;
    else if (cur().is(TokenKind::RBrace))
      --braces;
    consume();
  }
}

bool Parser::atTopLevelStart() {
  switch (cur().kind) {
  case TokenKind::KwModel:
  case TokenKind::KwTrain:
  case TokenKind::KwFn:
    return lexer.peekToken().is(TokenKind::Identifier);
  default:
    return false;
  }
}

void Parser::skipToTopLevel() {
  lexer.resetBrackets();
  // Stop at `model NAME`, `train NAME`, `fn NAME`, or at one of these
  // keywords first on its line (whose header may be the next error).
  bool lineStart = false;
  while (!cur().is(TokenKind::Eof) && !atTopLevelStart()) {
    if (lineStart &&
        (cur().is(TokenKind::KwModel) || cur().is(TokenKind::KwTrain) ||
         cur().is(TokenKind::KwFn)))
      return;
    lineStart = cur().is(TokenKind::Newline) || cur().is(TokenKind::RBrace);
    consume();
  }
}

//===----------------------------------------------------------------------===//
// Definitions
//===----------------------------------------------------------------------===//

/// module ::= (model | train | fn | newline)* eof
std::unique_ptr<ModuleAST> Parser::parseModule() {
  std::vector<std::unique_ptr<TopLevelAST>> defs;
  while (!cur().is(TokenKind::Eof) && !diag.hasReachedErrorLimit()) {
    std::unique_ptr<TopLevelAST> def;
    switch (cur().kind) {
    case TokenKind::Newline:
      consume();
      continue;
    case TokenKind::KwModel:
      def = parseModel();
      break;
    case TokenKind::KwTrain:
      def = parseTrain();
      break;
    case TokenKind::KwFn:
      def = parseFunction();
      break;
    default:
      errorExpected("'model', 'train' or 'fn'");
      consume();
      skipToTopLevel();
      continue;
    }
    if (def)
      defs.push_back(std::move(def));
  }
  return std::make_unique<ModuleAST>(*lexer.getFile(), std::move(defs));
}

/// Called after an error in the header of a `model` or `fn`: if a '{'
/// follows, parses (and drops) the body to report its errors too.
void Parser::recoverToBody(bool inFunction) {
  lexer.resetBrackets();
  while (!cur().is(TokenKind::Eof) && !cur().is(TokenKind::LBrace) &&
         !cur().is(TokenKind::Newline) && !atTopLevelStart())
    consume();
  if (!cur().is(TokenKind::LBrace)) {
    skipToTopLevel();
    return;
  }
  Location openLoc = cur().loc;
  consume();
  parseBody(inFunction, openLoc);
}

/// model ::= 'model' name '{' body '}'
std::unique_ptr<TopLevelAST> Parser::parseModel() {
  Location loc = cur().loc;
  consume(); // 'model'
  std::string name;
  Location nameLoc;
  if (!parseName(name, nameLoc, "model name")) {
    recoverToBody(/*inFunction=*/false);
    return nullptr;
  }
  Location openLoc = cur().loc;
  if (!expect(TokenKind::LBrace)) {
    recoverToBody(/*inFunction=*/false);
    return nullptr;
  }
  std::vector<StmtPtr> body = parseBody(/*inFunction=*/false, openLoc);
  return std::make_unique<ModelAST>(loc, std::move(name), std::move(body));
}

/// fn ::= 'fn' name '(' [name (',' name)*] ')' '{' body '}'
std::unique_ptr<TopLevelAST> Parser::parseFunction() {
  Location loc = cur().loc;
  consume(); // 'fn'
  std::string name;
  Location nameLoc;
  std::vector<FnParamAST> params;
  if (!parseName(name, nameLoc, "function name") ||
      !parseFunctionParams(params)) {
    recoverToBody(/*inFunction=*/true);
    return nullptr;
  }
  Location openLoc = cur().loc;
  if (!expect(TokenKind::LBrace)) {
    recoverToBody(/*inFunction=*/true);
    return nullptr;
  }
  std::vector<StmtPtr> body = parseBody(/*inFunction=*/true, openLoc);
  return std::make_unique<FunctionAST>(loc, std::move(name), std::move(params),
                                       std::move(body));
}

/// fn_params ::= '(' [name (',' name)*] ')'
bool Parser::parseFunctionParams(std::vector<FnParamAST> &params) {
  Location openLoc = cur().loc;
  if (!expect(TokenKind::LParen))
    return false;
  if (cur().is(TokenKind::RParen)) {
    consume();
    return true;
  }
  while (true) {
    FnParamAST param;
    if (!parseName(param.name, param.loc, "parameter name"))
      return false;
    for (const FnParamAST &other : params) {
      if (other.name == param.name) {
        diag.error(param.loc, "duplicate parameter '" + param.name + "'");
        diag.note(other.loc, "'" + other.name + "' was declared here");
        break;
      }
    }
    params.push_back(std::move(param));
    if (cur().is(TokenKind::Comma)) {
      consume();
      continue;
    }
    if (cur().is(TokenKind::RParen)) {
      consume();
      return true;
    }
    errorExpected("',' or ')'");
    noteOpening(openLoc, "(");
    return false;
  }
}

/// train ::= 'train' name '{' (train_entry? newline)* '}'
/// train_entry ::= name '=' expression
std::unique_ptr<TopLevelAST> Parser::parseTrain() {
  Location loc = cur().loc;
  consume(); // 'train'
  std::string model;
  Location modelLoc;
  if (!parseName(model, modelLoc, "model name")) {
    skipToTopLevel();
    return nullptr;
  }
  Location openLoc = cur().loc;
  if (!expect(TokenKind::LBrace)) {
    skipToTopLevel();
    return nullptr;
  }
  std::vector<TrainEntryAST> entries;
  while (!diag.hasReachedErrorLimit()) {
    if (cur().is(TokenKind::Newline)) {
      consume();
      continue;
    }
    if (cur().is(TokenKind::RBrace)) {
      consume();
      break;
    }
    if (cur().is(TokenKind::Eof) || atTopLevelStart()) {
      errorExpected("'}'");
      noteOpening(openLoc, "{");
      break;
    }
    TrainEntryAST entry;
    if (!parseName(entry.key, entry.loc, "setting name") ||
        !expect(TokenKind::Equal) || !(entry.value = parseExpression()) ||
        !expectStatementEnd()) {
      skipStatement();
      continue;
    }
    entries.push_back(std::move(entry));
  }
  return std::make_unique<TrainAST>(loc, std::move(model), std::move(entries));
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

/// body ::= (statement? newline)* '}'
/// The opening '{' is already consumed; `openLoc` is where it was.
std::vector<StmtPtr> Parser::parseBody(bool inFunction,
                                       const Location &openLoc) {
  std::vector<StmtPtr> body;
  while (!diag.hasReachedErrorLimit()) {
    if (cur().is(TokenKind::Newline)) {
      consume();
      continue;
    }
    if (cur().is(TokenKind::RBrace)) {
      consume();
      break;
    }
    if (cur().is(TokenKind::Eof) || atTopLevelStart()) {
      errorExpected("'}'");
      noteOpening(openLoc, "{");
      break;
    }
    StmtPtr stmt = parseStatement(inFunction);
    if (stmt && expectStatementEnd())
      body.push_back(std::move(stmt));
    else
      skipStatement();
  }
  return body;
}

/// statement ::= input_stmt | param_stmt | loss_stmt | result_stmt
///             | return_stmt | assign_stmt
StmtPtr Parser::parseStatement(bool inFunction) {
  const Token &tok = cur();
  switch (tok.kind) {
  case TokenKind::KwInput:
  case TokenKind::KwLabel:
  case TokenKind::KwLoss:
  case TokenKind::KwOutput:
  case TokenKind::KwMetric:
    if (inFunction)
      diag.error(tok.loc, tok.describe() + " is not allowed in a fn; a fn "
                                           "body holds assignments, 'param' "
                                           "and 'return'");
    if (tok.is(TokenKind::KwLoss))
      return parseLossStmt();
    if (tok.is(TokenKind::KwOutput) || tok.is(TokenKind::KwMetric))
      return parseResultStmt();
    return parseInputStmt();
  case TokenKind::KwParam:
    return parseParamStmt();
  case TokenKind::KwReturn:
    if (!inFunction)
      diag.error(tok.loc, "'return' is only allowed in a fn");
    return parseReturnStmt();
  case TokenKind::Identifier:
    return parseAssignStmt();
  default:
    errorExpected("statement");
    return nullptr;
  }
}

/// input_stmt ::= ('input' | 'label') name ':' type
StmtPtr Parser::parseInputStmt() {
  Location loc = cur().loc;
  bool isLabel = cur().is(TokenKind::KwLabel);
  consume();
  std::string name;
  Location nameLoc;
  TypeAST type;
  if (!parseName(name, nameLoc) || !expect(TokenKind::Colon) ||
      !parseType(type))
    return nullptr;
  return std::make_unique<InputStmtAST>(loc, isLabel, std::move(name), nameLoc,
                                        std::move(type));
}

/// param_stmt ::= 'param' name ':' type '=' expression
StmtPtr Parser::parseParamStmt() {
  Location loc = cur().loc;
  consume(); // 'param'
  std::string name;
  Location nameLoc;
  TypeAST type;
  if (!parseName(name, nameLoc) || !expect(TokenKind::Colon) ||
      !parseType(type) || !expect(TokenKind::Equal))
    return nullptr;
  ExprPtr init = parseExpression();
  if (!init)
    return nullptr;
  return std::make_unique<ParamStmtAST>(loc, std::move(name), nameLoc,
                                        std::move(type), std::move(init));
}

/// loss_stmt ::= 'loss' [name '='] expression
StmtPtr Parser::parseLossStmt() {
  Location loc = cur().loc;
  consume(); // 'loss'
  std::string name;
  Location nameLoc;
  if (cur().is(TokenKind::Identifier) &&
      lexer.peekToken().is(TokenKind::Equal)) {
    parseName(name, nameLoc);
    consume(); // '='
  }
  ExprPtr value = parseExpression();
  if (!value)
    return nullptr;
  return std::make_unique<LossStmtAST>(loc, std::move(name), nameLoc,
                                       std::move(value));
}

/// result_stmt ::= ('output' | 'metric') name '=' expression
StmtPtr Parser::parseResultStmt() {
  Location loc = cur().loc;
  bool isMetric = cur().is(TokenKind::KwMetric);
  consume();
  std::string name;
  Location nameLoc;
  if (!parseName(name, nameLoc) || !expect(TokenKind::Equal))
    return nullptr;
  ExprPtr value = parseExpression();
  if (!value)
    return nullptr;
  return std::make_unique<ResultStmtAST>(loc, isMetric, std::move(name),
                                         nameLoc, std::move(value));
}

/// return_stmt ::= 'return' expression
StmtPtr Parser::parseReturnStmt() {
  Location loc = cur().loc;
  consume(); // 'return'
  ExprPtr value = parseExpression();
  if (!value)
    return nullptr;
  return std::make_unique<ReturnStmtAST>(loc, std::move(value));
}

/// assign_stmt ::= name '=' expression
StmtPtr Parser::parseAssignStmt() {
  Location loc = cur().loc;
  std::string name = cur().spelling.str();
  consume();
  if (!expect(TokenKind::Equal))
    return nullptr;
  ExprPtr value = parseExpression();
  if (!value)
    return nullptr;
  return std::make_unique<AssignStmtAST>(loc, std::move(name),
                                         std::move(value));
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// type ::= element_type '[' [dim (',' dim)*] ']'
/// element_type ::= 'f32' | 'f64' | 'i32' | 'i64' | 'u8' | 'bool'
bool Parser::parseType(TypeAST &type) {
  type.loc = cur().loc;
  std::optional<ElementType> elementType;
  if (cur().is(TokenKind::Identifier))
    elementType = parseElementType(cur().spelling);
  if (!elementType) {
    errorExpected("element type (f32, f64, i32, i64, u8 or bool)");
    return false;
  }
  type.elementType = *elementType;
  consume();
  Location openLoc = cur().loc;
  if (!expect(TokenKind::LBracket))
    return false;
  if (cur().is(TokenKind::RBracket)) {
    consume();
    return true;
  }
  while (true) {
    DimAST dim;
    if (!parseDim(dim))
      return false;
    type.dims.push_back(std::move(dim));
    if (cur().is(TokenKind::Comma)) {
      consume();
      continue;
    }
    if (cur().is(TokenKind::RBracket)) {
      consume();
      return true;
    }
    errorExpected("',' or ']'");
    noteOpening(openLoc, "[");
    return false;
  }
}

/// dim ::= positive_integer | name
bool Parser::parseDim(DimAST &dim) {
  const Token &tok = cur();
  dim.loc = tok.loc;
  if (tok.is(TokenKind::Identifier)) {
    dim.symbol = tok.spelling.str();
    consume();
    return true;
  }
  if (tok.is(TokenKind::Number) && tok.isInteger && tok.intValue > 0) {
    dim.extent = tok.intValue;
    consume();
    return true;
  }
  errorExpected("dimension (a positive integer or a name)");
  return false;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

std::unique_ptr<ModuleAST> fm::parseBuffer(llvm::SourceMgr &sourceMgr,
                                           unsigned bufferID,
                                           DiagnosticEngine &diag) {
  const llvm::MemoryBuffer *buffer = sourceMgr.getMemoryBuffer(bufferID);
  unsigned errorsBefore = diag.getErrorCount();
  Lexer lexer(buffer->getBuffer(), buffer->getBufferIdentifier(), diag);
  std::unique_ptr<ModuleAST> module = Parser(lexer, diag).parseModule();
  if (diag.getErrorCount() != errorsBefore)
    return nullptr;
  return module;
}

std::unique_ptr<ModuleAST> fm::parseSource(llvm::StringRef source,
                                           llvm::StringRef fileName,
                                           llvm::SourceMgr &sourceMgr,
                                           DiagnosticEngine &diag) {
  unsigned bufferID = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, fileName), llvm::SMLoc());
  return parseBuffer(sourceMgr, bufferID, diag);
}
