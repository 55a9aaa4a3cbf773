//===- MLIRGenTrain.cpp - The train block -----------------------*- C++ -*-===//
//
// This file implements the lowering of a `train` block (LANGUAGE.md §9):
// each key is checked (type, range, known names) and the settings become
// the module attributes `fm.train` (the descriptor's JSON `train` object)
// and `fm.optimizer` (read by fm-optimizer-update).
//
//===----------------------------------------------------------------------===//
#include "frontend/MLIRGenImpl.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <sstream>

using namespace fm;

static std::string jsonString(llvm::StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if ((unsigned char)c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

static std::string jsonNumber(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

namespace fm {

/// Settings are compile-time constants: numbers, strings, names and calls
/// such as `adam(lr=1e-3)`; nothing here builds IR.
struct TrainLowering {
  MLIRGenImpl &gen;
  llvm::StringRef sourceDir;
  bool ok = true;

  Term fail(const Location &l, const llvm::Twine &message) {
    ok = false;
    return gen.error(l, message);
  }

  Term eval(const ExprAST &e) {
    Term t;
    t.loc = e.getLoc();
    if (auto *n = llvm::dyn_cast<NumberExprAST>(&e))
      return Term::num(n->getValue(), n->isInteger(), e.getLoc());
    if (auto *s = llvm::dyn_cast<StringExprAST>(&e)) {
      t.kind = Term::String;
      t.text = s->getValue().str();
      return t;
    }
    if (auto *bl = llvm::dyn_cast<BoolExprAST>(&e)) {
      t.kind = Term::Bool;
      t.flag = bl->getValue();
      return t;
    }
    if (auto *n = llvm::dyn_cast<NameExprAST>(&e)) { // `constant`, a bare call
      t.kind = Term::Call;
      t.text = n->getName().str();
      return t;
    }
    if (auto *neg = llvm::dyn_cast<NegExprAST>(&e)) {
      Term x = eval(neg->getOperand());
      if (x.kind != Term::Number)
        return x.ok() ? fail(e.getLoc(), "expected a number after '-'") : x;
      x.number = -x.number;
      return x;
    }
    if (auto *bin = llvm::dyn_cast<BinaryExprAST>(&e)) {
      Term l = eval(bin->getLHS()), r = eval(bin->getRHS());
      if (!l.ok() || !r.ok())
        return Term::invalid();
      if (l.kind != Term::Number || r.kind != Term::Number)
        return fail(e.getLoc(), "expected numbers on both sides of '" +
                                    getBinaryOpSpelling(bin->getOp()) + "'");
      double x = l.number, y = r.number;
      switch (bin->getOp()) {
      case BinaryOp::Add: return Term::num(x + y, l.isInteger && r.isInteger, e.getLoc());
      case BinaryOp::Sub: return Term::num(x - y, l.isInteger && r.isInteger, e.getLoc());
      case BinaryOp::Mul: return Term::num(x * y, l.isInteger && r.isInteger, e.getLoc());
      case BinaryOp::Div:
        if (y == 0)
          return fail(e.getLoc(), "division by zero");
        return Term::num(x / y, false, e.getLoc());
      default:
        return fail(e.getLoc(), "expected an arithmetic operator");
      }
    }
    if (auto *c = llvm::dyn_cast<CallExprAST>(&e)) {
      t.kind = Term::Call;
      t.text = c->getCallee().str();
      for (const ExprPtr &a : c->getArgs())
        t.items.push_back(eval(*a));
      for (const KeywordArgAST &k : c->getKeywordArgs())
        t.keywords.push_back({k.name, eval(*k.value)});
      return t;
    }
    if (auto *l = llvm::dyn_cast<ListExprAST>(&e)) {
      t.kind = Term::List;
      for (const ExprPtr &a : l->getElements())
        t.items.push_back(eval(*a));
      return t;
    }
    return fail(e.getLoc(), "expected a constant setting");
  }

  /// Binds a settings call like `adam(lr=1e-3)` to its parameters.
  bool bind(const Term &call, llvm::ArrayRef<const char *> params,
            std::map<std::string, Term> &out) {
    if (call.items.size() > params.size()) {
      fail(call.items[params.size()].loc,
           "too many arguments for '" + call.text + "'");
      return false;
    }
    for (auto [i, a] : llvm::enumerate(call.items))
      out[params[i]] = a;
    for (auto &[k, v] : call.keywords) {
      if (!llvm::is_contained(params, llvm::StringRef(k))) {
        std::string expected;
        for (auto [i, p] : llvm::enumerate(params))
          expected += (i ? ", " : "") + std::string(p);
        fail(v.loc, "unknown argument '" + k + "' for '" + call.text +
                        "'; expected one of " + expected);
        return false;
      }
      out[k] = v;
    }
    return true;
  }

  std::optional<double> number(const Term &t, const char *what, double lo,
                               double hi, bool integer = false) {
    if (t.kind != Term::Number || (integer && !t.isInteger)) {
      fail(t.loc, std::string("expected ") + (integer ? "an integer" : "a number") +
                      " for " + what);
      return std::nullopt;
    }
    if (!(t.number >= lo && t.number <= hi)) {
      std::ostringstream os;
      os << "expected " << what << " in [" << lo << ", " << hi << "] but got "
         << t.number;
      fail(t.loc, os.str());
      return std::nullopt;
    }
    return t.number;
  }

  /// `normalize = [mean, std]`, each a number or a per-channel list.
  std::string normalize(const Term &v) {
    auto list = [&](const Term &t, const char *what) -> std::string {
      if (t.kind == Term::Number)
        return jsonNumber(t.number);
      if (t.kind != Term::List || t.items.empty()) {
        fail(t.loc, std::string("expected a number or a list of numbers for the ") + what);
        return "";
      }
      std::string out = "[";
      for (auto [i, e] : llvm::enumerate(t.items)) {
        if (e.kind != Term::Number) {
          fail(e.loc, std::string("expected a number in the ") + what);
          return "";
        }
        out += (i ? ", " : "") + jsonNumber(e.number);
      }
      return out + "]";
    };
    if (v.kind != Term::List || v.items.size() != 2) {
      fail(v.loc, "expected normalize = [mean, std]");
      return "";
    }
    std::string mean = list(v.items[0], "mean"), std = list(v.items[1], "std");
    if (mean.empty() || std.empty())
      return "";
    auto count = [](const Term &t) { return t.kind == Term::List ? t.items.size() : 1; };
    if (count(v.items[0]) != count(v.items[1])) {
      fail(v.loc, "expected as many std values as mean values");
      return "";
    }
    auto positive = [](const Term &t) {
      if (t.kind == Term::Number)
        return t.number > 0;
      return llvm::all_of(t.items, [](const Term &e) { return e.number > 0; });
    };
    if (!positive(v.items[1])) {
      fail(v.items[1].loc, "expected std values above 0");
      return "";
    }
    return "{\"mean\": " + mean + ", \"std\": " + std + "}";
  }

  /// `augment = [flip_horizontal, random_crop(pad)]`.
  std::string augment(const Term &v) {
    if (v.kind != Term::List) {
      fail(v.loc, "expected a list such as [flip_horizontal, random_crop(4)]");
      return "";
    }
    std::string out = "[";
    for (auto [i, e] : llvm::enumerate(v.items)) {
      std::map<std::string, Term> a;
      std::string item;
      if (e.kind != Term::Call || (e.text != "flip_horizontal" && e.text != "random_crop")) {
        fail(e.loc, "unknown augmentation; expected flip_horizontal or random_crop(pad)");
        return "";
      }
      if (e.text == "flip_horizontal") {
        if (!bind(e, {}, a))
          return "";
        item = "{\"kind\": \"flip_horizontal\"}";
      } else {
        if (!bind(e, {"pad"}, a))
          return "";
        if (!a.count("pad")) {
          fail(e.loc, "expected random_crop(pad)");
          return "";
        }
        auto pad = number(a["pad"], "the crop padding", 0, 1 << 16, true);
        if (!pad)
          return "";
        item = "{\"kind\": \"random_crop\", \"pad\": " + jsonNumber(*pad) + "}";
      }
      out += (i ? ", " : "") + item;
    }
    return out + "]";
  }

  /// `lr_schedule = constant | step(every, gamma) | cosine(min=0)`, each
  /// with an optional `warmup=epochs`.
  std::string schedule(const Term &v) {
    std::map<std::string, Term> a;
    std::string out;
    if (v.kind == Term::Call && v.text == "constant" && bind(v, {"warmup"}, a)) {
      out = "{\"kind\": \"constant\"";
    } else if (v.kind == Term::Call && v.text == "step" &&
               bind(v, {"every", "gamma", "warmup"}, a)) {
      if (!a.count("every") || !a.count("gamma")) {
        fail(v.loc, "expected step(every, gamma)");
        return "";
      }
      auto every = number(a["every"], "'every'", 1, 1e9, true);
      auto gamma = number(a["gamma"], "'gamma'", 0, 1e6);
      if (!every || !gamma)
        return "";
      out = "{\"kind\": \"step\", \"every\": " + jsonNumber(*every) +
            ", \"gamma\": " + jsonNumber(*gamma);
    } else if (v.kind == Term::Call && v.text == "cosine" && bind(v, {"min", "warmup"}, a)) {
      double min = 0;
      if (a.count("min")) {
        auto m = number(a["min"], "'min'", 0, 1e6);
        if (!m)
          return "";
        min = *m;
      }
      out = "{\"kind\": \"cosine\", \"min\": " + jsonNumber(min);
    } else {
      if (v.kind != Term::Call || (v.text != "constant" && v.text != "step" &&
                                   v.text != "cosine"))
        fail(v.loc, "expected an lr_schedule: constant, step(every, gamma) or "
                    "cosine(min=0), each with an optional warmup=epochs");
      return "";
    }
    if (a.count("warmup")) {
      auto w = number(a["warmup"], "'warmup'", 0, 1e6);
      if (!w)
        return "";
      out += ", \"warmup\": " + jsonNumber(*w);
    }
    return out + "}";
  }

  std::string path(const Term &t, const char *what) {
    if (t.kind != Term::String) {
      fail(t.loc, std::string("expected a path string for ") + what);
      return "";
    }
    llvm::SmallString<256> p(t.text);
    if (!llvm::sys::path::is_absolute(p)) {
      llvm::SmallString<256> base(sourceDir);
      llvm::sys::path::append(base, p);
      p = base;
    }
    return std::string(p);
  }
};

} // namespace fm

bool fm::lowerTrainBlock(MLIRGenImpl &gen, mlir::ModuleOp module,
                         const TrainAST *train, const TrainAST *overrides,
                         llvm::StringRef sourceFile) {
  llvm::SmallString<256> dir(sourceFile);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  llvm::sys::fs::make_absolute(dir);
  TrainLowering tl{gen, dir};
  auto modelName = module->getAttrOfType<mlir::StringAttr>("fm.model").str();

  // Defaults of LANGUAGE.md §9.
  std::string data;
  double scale = 1.0 / 255, validation = 0, batch = 32, epochs = 10, seed = 0;
  std::string checkpoint = "checkpoints/" + modelName;
  std::string optKind = "adam";
  std::map<std::string, double> opt = {{"lr", 1e-3}, {"beta1", 0.9},
                                       {"beta2", 0.999}, {"eps", 1e-8},
                                       {"weight_decay", 0}};
  bool nesterov = false;
  std::map<std::string, std::string> extra; // further keys, as JSON
  double clipGradNorm = 0;
  std::optional<Location> earlyStopLoc;

  std::vector<const TrainEntryAST *> entries;
  for (const TrainAST *block : {train, overrides})
    if (block)
      for (const TrainEntryAST &entry : block->getEntries())
        entries.push_back(&entry); // later entries win
  {
    for (const TrainEntryAST *entryPtr : entries) {
      const TrainEntryAST &entry = *entryPtr;
      Term v = tl.eval(*entry.value);
      if (!v.ok())
        continue;
      const std::string &key = entry.key;
      if (key == "data") {
        std::map<std::string, Term> a;
        if (v.kind != Term::Call) {
          tl.fail(v.loc, "expected a data source: fashion_mnist(), mnist(dir) "
                         "or idx(train_images, train_labels, test_images, test_labels)");
        } else if (v.text == "fashion_mnist") {
          if (tl.bind(v, {}, a))
            data = "{\"kind\": \"fashion_mnist\"}";
        } else if (v.text == "mnist") {
          if (tl.bind(v, {"dir"}, a) && a.count("dir"))
            data = "{\"kind\": \"mnist\", \"dir\": " + jsonString(tl.path(a["dir"], "dir")) + "}";
          else if (tl.ok)
            tl.fail(v.loc, "expected mnist(dir)");
        } else if (v.text == "idx") {
          const char *names[] = {"train_images", "train_labels", "test_images", "test_labels"};
          if (tl.bind(v, names, a)) {
            data = "{\"kind\": \"idx\"";
            for (const char *n : names) {
              if (!a.count(n)) {
                tl.fail(v.loc, std::string("missing argument '") + n + "' of idx(...)");
                break;
              }
              data += std::string(", \"") + n + "\": " + jsonString(tl.path(a[n], n));
            }
            data += "}";
          }
        } else if (v.text == "cifar10") {
          if (tl.bind(v, {"dir"}, a) && a.count("dir"))
            data = "{\"kind\": \"cifar10\", \"dir\": " + jsonString(tl.path(a["dir"], "dir")) + "}";
          else if (tl.ok)
            tl.fail(v.loc, "expected cifar10(dir)");
        } else if (v.text == "csv") {
          if (tl.bind(v, {"train", "test", "label"}, a)) {
            if (!a.count("train") || !a.count("test") || !a.count("label") ||
                a["label"].kind != Term::String)
              tl.fail(v.loc, "expected csv(train, test, label=\"column\")");
            else
              data = "{\"kind\": \"csv\", \"train\": " + jsonString(tl.path(a["train"], "train")) +
                     ", \"test\": " + jsonString(tl.path(a["test"], "test")) +
                     ", \"label\": " + jsonString(a["label"].text) + "}";
          }
        } else {
          tl.fail(v.loc, "unknown data source '" + v.text + "'; expected "
                         "fashion_mnist(), mnist(dir), idx(...), cifar10(dir) or "
                         "csv(train, test, label=\"column\")");
        }
      } else if (key == "scale") {
        if (auto x = tl.number(v, "'scale'", 0, 1e30))
          scale = *x;
      } else if (key == "validation") {
        if (auto x = tl.number(v, "'validation'", 0, 0.99))
          validation = *x;
      } else if (key == "batch") {
        if (auto x = tl.number(v, "'batch'", 1, 1 << 20, true))
          batch = *x;
      } else if (key == "epochs") {
        if (auto x = tl.number(v, "'epochs'", 1, 1e6, true))
          epochs = *x;
      } else if (key == "seed") {
        if (auto x = tl.number(v, "'seed'", 0, 9007199254740991.0, true))
          seed = *x;
      } else if (key == "checkpoint") {
        if (v.kind == Term::String)
          checkpoint = v.text;
        else
          tl.fail(v.loc, "expected a directory string for 'checkpoint'");
      } else if (key == "optimizer") {
        std::map<std::string, Term> a;
        if (v.kind != Term::Call ||
            (v.text != "sgd" && v.text != "adam" && v.text != "adamw")) {
          tl.fail(v.loc, "expected an optimizer: sgd(lr, momentum=0, nesterov=false, "
                         "weight_decay=0), adam(lr, beta1=0.9, beta2=0.999, "
                         "eps=1e-8, weight_decay=0) or adamw(..., weight_decay=0.01)");
          continue;
        }
        optKind = v.text;
        // PyTorch's AdamW decays by default; Adam and SGD do not.
        opt["weight_decay"] = optKind == "adamw" ? 0.01 : 0;
        bool bound = optKind == "sgd"
                         ? tl.bind(v, {"lr", "momentum", "nesterov", "weight_decay"}, a)
                         : tl.bind(v, {"lr", "beta1", "beta2", "eps", "weight_decay"}, a);
        if (!bound)
          continue;
        if (optKind == "sgd") {
          opt = {{"lr", NAN}, {"momentum", 0}, {"weight_decay", 0}};
          if (!a.count("lr"))
            tl.fail(v.loc, "missing argument 'lr' of sgd(...)");
        }
        for (auto &[k, t] : a) {
          if (k == "nesterov") {
            if (t.kind == Term::Bool)
              nesterov = t.flag;
            else
              tl.fail(t.loc, "expected true or false for 'nesterov'");
            continue;
          }
          double hi = (k == "beta1" || k == "beta2" || k == "momentum") ? 0.999999 : 1e6;
          if (auto x = tl.number(t, ("'" + k + "'").c_str(), 0, hi))
            opt[k] = *x;
        }
        if (nesterov && opt["momentum"] == 0)
          tl.fail(v.loc, "nesterov needs a momentum above 0");
        if (opt["lr"] <= 0)
          tl.fail(v.loc, "expected a learning rate above 0");
      } else if (key == "normalize") {
        std::string json = tl.normalize(v);
        if (!json.empty())
          extra["normalize"] = json;
      } else if (key == "augment") {
        std::string json = tl.augment(v);
        if (!json.empty())
          extra["augment"] = json;
      } else if (key == "lr_schedule") {
        std::string json = tl.schedule(v);
        if (!json.empty())
          extra["lr_schedule"] = json;
      } else if (key == "clip_grad_norm") {
        if (auto x = tl.number(v, "'clip_grad_norm'", 1e-12, 1e30)) {
          extra["clip_grad_norm"] = jsonNumber(*x);
          clipGradNorm = *x;
        }
      } else if (key == "early_stop") {
        if (auto x = tl.number(v, "'early_stop'", 1, 1e6, true)) {
          extra["early_stop"] = jsonNumber(*x);
          earlyStopLoc = v.loc;
        }
      } else {
        tl.fail(entry.loc, "unknown train key '" + key + "'; expected one of data, "
                           "scale, normalize, augment, validation, optimizer, "
                           "lr_schedule, clip_grad_norm, batch, epochs, "
                           "early_stop, checkpoint, seed");
      }
    }
  }
  if (data.empty())
    data = "{\"kind\": \"fashion_mnist\"}";

  std::string optJson = "{\"kind\": " + jsonString(optKind);
  mlir::OpBuilder &b = gen.builder();
  llvm::SmallVector<mlir::NamedAttribute> optAttrs = {
      b.getNamedAttr("kind", b.getStringAttr(optKind))};
  for (auto &[k, v] : opt) {
    optJson += ", " + jsonString(k) + ": " + jsonNumber(v);
    optAttrs.push_back(b.getNamedAttr(k, b.getF64FloatAttr(v)));
  }
  if (optKind == "sgd") {
    optJson += std::string(", \"nesterov\": ") + (nesterov ? "true" : "false");
    optAttrs.push_back(b.getNamedAttr("nesterov", b.getBoolAttr(nesterov)));
  }
  optJson += "}";

  if (earlyStopLoc && validation == 0)
    tl.fail(*earlyStopLoc, "early_stop watches the validation loss; set "
                           "validation to a fraction above 0");
  std::string extraJson;
  for (auto &[k, v] : extra)
    extraJson += ", " + jsonString(k) + ": " + v;
  std::string json = "{\"data\": " + data + ", \"scale\": " + jsonNumber(scale) +
                     ", \"validation\": " + jsonNumber(validation) +
                     ", \"optimizer\": " + optJson +
                     ", \"batch\": " + jsonNumber(batch) +
                     ", \"epochs\": " + jsonNumber(epochs) +
                     ", \"seed\": " + jsonNumber(seed) +
                     ", \"checkpoint\": " + jsonString(checkpoint) + extraJson + "}";
  module->setAttr("fm.train", b.getStringAttr(json));
  module->setAttr("fm.optimizer", b.getDictionaryAttr(optAttrs));
  if (clipGradNorm > 0)
    module->setAttr("fm.clip_grad_norm", b.getF64FloatAttr(clipGradNorm));
  return tl.ok;
}
