#!/usr/bin/env python3
"""The benchmark, in one run: fm against its PyTorch peer (bench/torch_peer.py)
on the same models, recipe, data, batch and threads, round after round.

In order, each measurement a process of its own, one after the other, both
sides pinned to the same cores (taskset) with OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS set to --threads:
  1. the machine: CPU model and ISA, fm's kernel target, PyTorch's build
     configuration (BLAS, oneDNN) and thread settings, the load average;
  2. per model, fmc --shared with the benchmark's recipe (Adam 1e-3, no
     augmentation, constant rate; the example's batch and normalisation),
     cold and cached (the compile times);
  3. --rounds rounds (at least 3), fm first in odd rounds and PyTorch first
     in even ones, each round per model: training (E epochs over the first
     L training images, plus 2 for the MLP, whose epochs take under a
     second; the rate is the median over the epochs after the first, which
     warms up; then test accuracy: a fast
     run must also learn), inference (whole passes over the 10,000 test
     images at batch 256, probabilities back in a host array), and an
     SGEMM peak (OpenBLAS, bench/sgemm_peak.py) after the round;
  4. fmrun bench --profile on each model's train step: its conv and matmul
     FLOPs (for the FLOP utilisation), and the CNN's per-kernel table.
Prints per model and measure the median and best of each side over the
rounds, their ratio (of medians) and the target (PASS/FAIL), and writes
everything as JSON (bench/results/latest.json; --json PATH). Method:
docs/bench.md. Never run it beside a build or another benchmark.

usage: bench/run.sh [--models cnn,cnn_bn,resnet,mlp] [--rounds 3] [--threads 2]
                    [--epochs 2] [--quick] [--no-torch] [--autoschedulers]
                    [--json PATH]
"""
import argparse, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "bench", "torch_peer.py")

# The models: their example, training batch, training images per epoch
# (enough steps for a stable epoch rate, few enough for several rounds),
# the example's normalisation (kept on both sides), and whether they are
# heavy enough that inference passes are few.
MODELS = {
    "cnn": {"source": "examples/fashion_cnn.fm", "batch": 64, "limit": 19200, "normalize": None},
    "cnn_bn": {"source": "examples/fashion_cnn_bn.fm", "batch": 128, "limit": 12800,
               "normalize": [0.2860, 0.3530]},
    "resnet": {"source": "examples/resnet_small.fm", "batch": 64, "limit": 6400, "normalize": None},
    "mlp": {"source": "examples/mlp.fm", "batch": 64, "limit": 60000, "normalize": None,
            # An MLP epoch takes under a second, so one epoch's rate follows
            # the machine's noise: time three and take their median.
            "extra_epochs": 2},
}
INFER_BATCH = 256

# The targets of issue 9: (label, model, measure, bound). Ratios are fm /
# PyTorch of the medians over the rounds; "mfu" is the fraction of the SGEMM
# peak; "learned" is fm's test accuracy minus PyTorch's, in points.
TARGETS = [
    ("training img/s", "cnn", "train_img_per_s", 1.8),
    ("training img/s", "cnn_bn", "train_img_per_s", 1.5),
    ("training img/s", "mlp", "train_img_per_s", 1.8),
    ("inference img/s", "cnn", "infer_img_per_s", 3.0),
    ("inference img/s", "mlp", "infer_img_per_s", 1.2),
]
MFU_TARGET = ("cnn", 0.50)
# fm learned as well as PyTorch: its test accuracy after the same training
# at most this many points below.
LEARNED_POINTS = 2.0
# fmc on the CNN: seconds cold (an empty kernel cache) and cached.
COMPILE_TARGETS = {"compile_cold_s": 30.0, "compile_cached_s": 2.0}
QUIET_LOAD = 0.2  # cores busy with other work before a measurement: above this, not quiet


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def pinned(a, cmd):
    """cmd on the first --threads cores, with both sides' thread settings."""
    return ["taskset", "-c", a.cores] + cmd


def peer_env(a):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(a.threads)
    return env


def busy_cores(seconds=0.3):
    """How many cores something else keeps busy, sampled from /proc/stat
    just before a measurement (the load average would count the benchmark's
    own previous process for a minute after it ended)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return (os.cpu_count() or 1) * (1 - (i1 - i0) / max(1, t1 - t0))


def run_measured(a, cmd):
    """Runs cmd pinned, to completion; returns (stdout, peak RSS in MB, cores
    busy just before). os.wait4 gives this child's own rusage."""
    load = busy_cores()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(pinned(a, cmd), stdout=out, stderr=err, env=peer_env(a))
        _, status, usage = os.wait4(p.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if code != 0:
        sys.exit("bench: '%s' failed (exit %d):\n%s%s" % (" ".join(cmd), code, text, errors))
    return text, usage.ru_maxrss / 1024.0, load


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]


def tool(a, name):
    return os.path.join(a.build, "bin", name)


#===------------------------------------------------------------------------===#
# The machine
#===------------------------------------------------------------------------===#

def machine(a):
    cpu, flags = platform.processor() or platform.machine(), []
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        m = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
        cpu = m.group(1) if m else cpu
        m = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
        flags = sorted(f for f in (m.group(1).split() if m else [])
                       if f.startswith(("avx", "sse4", "fma", "f16c", "amx")))
    except OSError:
        pass
    return {"cpu": cpu, "isa": flags, "cores": os.cpu_count(), "threads": a.threads, "pinned_cores": a.cores,
            "python": platform.python_version(), "kernel": platform.release()}


def has_avx512(mach):
    return all(f in mach["isa"] for f in ("avx512f", "avx512bw", "avx512dq", "avx512vl"))


def openblas_core(a, coretype=None):
    """The kernels OpenBLAS picks on this CPU (its OPENBLAS_VERBOSE line)."""
    env = peer_env(a)
    env["OPENBLAS_VERBOSE"] = "2"
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    r = subprocess.run(pinned(a, ["/usr/bin/python3", "-c", "import torch; torch.mm(torch.ones(64, 64), torch.ones(64, 64))"]),
                       capture_output=True, text=True, env=env)
    m = re.search(r"Core: (\S+)", r.stdout + r.stderr)
    return m.group(1) if m else "?"


def sgemm_peak(a, n, coretype=None):
    """OpenBLAS's SGEMM, with the kernels it picks itself or, with
    `coretype`, the ones named (OPENBLAS_CORETYPE)."""
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "sgemm_peak.py"), "--n", str(n), "--threads", str(a.threads)]
    if coretype:
        cmd = ["env", "OPENBLAS_CORETYPE=" + coretype] + cmd
    text, _, _ = run_measured(a, cmd)
    return json_lines(text)[-1]


def peak_coretype(mach):
    """OpenBLAS 0.3.21 does not know AMD Zen 4/5 and runs its Haswell (AVX2)
    kernels there, half of what the CPU can do; the peak that utilisation is
    measured against uses its AVX-512 kernels on any CPU that has AVX-512
    (PyTorch keeps OpenBLAS's own choice: what Debian's PyTorch does)."""
    return "SKYLAKEX" if has_avx512(mach) else None


#===------------------------------------------------------------------------===#
# fm
#===------------------------------------------------------------------------===#

def recipe_overrides(name):
    """fmc --set: the benchmark's recipe, which the peer implements."""
    m = MODELS[name]
    sets = ["optimizer=adam(lr=0.001)", "augment=[]", "lr_schedule=constant", "batch=%d" % m["batch"]]
    if m["normalize"]:
        sets.append("normalize=[%r, %r]" % tuple(m["normalize"]))
    return [x for s in sets for x in ("--set", s)]


def compile_model(a, name, tmp, schedule=None):
    """fmc --shared into tmp, so the measured runs never start fmc; twice
    with a kernel cache of its own, cold then cached. Returns the library
    and both times."""
    out = os.path.join(tmp, name + ("-" + schedule if schedule else ""))
    cmd = [tool(a, "fmc"), "--shared", os.path.join(ROOT, MODELS[name]["source"]), "-o", out] + recipe_overrides(name)
    if schedule:
        cmd += ["--schedule=" + schedule, "--no-cache"]
    else:
        cmd += ["--cache-dir", os.path.join(tmp, "kernels-" + name)]
    times = []
    for _ in range(1 if schedule else 2):
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        times.append(time.perf_counter() - t)
    libs = [f for f in os.listdir(out) if f.startswith("lib") and f.endswith(".so")]
    return os.path.join(out, libs[0]), times


def fm_train(a, name, lib, tmp):
    m = MODELS[name]
    logfile = os.path.join(tmp, name + "-train.jsonl")
    if os.path.exists(logfile):
        os.unlink(logfile)
    _, rss, load = run_measured(a, [tool(a, "fmrun"), "train", lib, "--epochs", str(a.train_epochs(name)),
                                    "--batch", str(m["batch"]), "--threads", str(a.threads), "--validation", "0",
                                    "--seed", "0", "--limit", str(a.limit(name)), "--log", logfile,
                                    "--checkpoint-dir", os.path.join(tmp, name + "-ckpt")])
    events = [json.loads(l) for l in open(logfile)]
    epochs = [e for e in events if e["event"] == "epoch"]
    test = [e for e in events if e["event"] == "test"]
    timed = [e["images_per_s"] for e in epochs[1:]] or [epochs[-1]["images_per_s"]]
    return {"train_img_per_s": statistics.median(timed), "train_peak_rss_mb": round(rss, 1),
            "test_acc": test[0]["acc"] if test else None, "load": load}


def fm_bench(a, lib, step, batch, steps, extra=()):
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    text, _, load = run_measured(a, [tool(a, "fmrun"), "bench", lib, "--step", step, "--batch", str(batch),
                                     "--steps", str(steps), "--threads", str(a.threads), "--json", out]
                                 + list(extra))
    with open(out) as f:
        result = json.load(f)
    os.unlink(out)
    result["load"] = load
    return result, text


def fm_infer(a, lib):
    r, _ = fm_bench(a, lib, "predict", INFER_BATCH, a.passes, ["--split", "test"])
    return {"infer_img_per_s": r["img_per_s"], "kernels": "%s (%s)" % (r.get("kernels"), r.get("target")),
            "load": r["load"]}


#===------------------------------------------------------------------------===#
# PyTorch
#===------------------------------------------------------------------------===#

def peer_args(a, name):
    m = MODELS[name]
    args = ["/usr/bin/python3", PEER, "--model", name, "--threads", str(a.threads)]
    if m["normalize"]:
        args += ["--normalize", "%r,%r" % tuple(m["normalize"])]
    return args


def torch_train(a, name):
    text, rss, load = run_measured(a, peer_args(a, name) + ["--mode", "train", "--epochs", str(a.train_epochs(name)),
                                                            "--batch", str(MODELS[name]["batch"]),
                                                            "--limit", str(a.limit(name))])
    r = json_lines(text)[-1]
    return {"train_img_per_s": r["train_img_per_s"], "train_peak_rss_mb": round(rss, 1), "test_acc": r["test_acc"],
            "load": load}


def torch_infer(a, name):
    text, _, load = run_measured(a, peer_args(a, name) + ["--mode", "infer", "--batch", str(INFER_BATCH),
                                                          "--passes", str(a.passes)])
    r = json_lines(text)[-1]
    return {"infer_img_per_s": r["img_per_s"], "load": load}


def torch_info(a):
    text, _, _ = run_measured(a, ["/usr/bin/python3", PEER, "--mode", "info", "--threads", str(a.threads)])
    return json_lines(text)[-1]


#===------------------------------------------------------------------------===#
# Profiles and FLOPs
#===------------------------------------------------------------------------===#

def contraction_flops(profile):
    """Conv and matmul FLOPs of one step (the descriptor counts contractions
    only: docs/bench.md)."""
    return sum(k.get("flops_per_step", 0) for k in profile["kernels"])


def format_profile(bench, peak):
    """fmrun's per-kernel table from its JSON, with a % of `peak` column."""
    p = bench["profile"]
    lines = ["train_step  batch %d  %.3f ms/step  %.0f img/s"
             % (bench["batch"], bench["ms_per_step"], bench["img_per_s"]), "",
             "%-28s %-36s %9s %7s %9s %8s %9s %8s" % ("kernel", "ops", "ms/step", "% step", "GFLOP/s", "% peak",
                                                     "best ms", "% peak")]
    for k in p["kernels"]:
        ops = k["ops"] if len(k["ops"]) <= 36 else k["ops"][:33] + "..."
        g = k.get("gflops") or 0
        b = k.get("best_gflops") or 0
        lines.append("%-28s %-36s %9.3f %6.1f%% %9s %8s %9.3f %8s" % (
            k["name"], ops, k["ms_per_step"], 100 * k["fraction"],
            "%.1f" % g if g else "-", "%.1f%%" % (100 * g / peak) if g else "-",
            k["best_ms_per_step"], "%.1f%%" % (100 * b / peak) if b else "-"))
    lines.append("%-28s %-36s %9.3f" % ("all (profiled)", "", p["ms_per_step"]))
    return "\n".join(lines)


AUTOSCHEDULERS = ["mullapudi2016", "adams2019", "li2018"]


def compare_schedules(a, name, hand_lib, tmp):
    """The hand schedules against Halide's autoschedulers on one model:
    train and predict steps timed by fmrun bench."""
    out = {}
    for schedule in ["hand"] + AUTOSCHEDULERS:
        lib, compile_s = hand_lib, None
        if schedule != "hand":
            log("fm %s: compiling with --schedule=%s..." % (name, schedule))
            lib, times = compile_model(a, name, tmp, schedule)
            compile_s = round(times[0], 1)
        train, _ = fm_bench(a, lib, "train", MODELS[name]["batch"], a.bench_steps)
        infer, _ = fm_bench(a, lib, "predict", INFER_BATCH, a.bench_steps)
        out[schedule] = {"train_img_per_s": round(train["img_per_s"], 1),
                         "infer_img_per_s": round(infer["img_per_s"], 1), "compile_s": compile_s}
    return out


#===------------------------------------------------------------------------===#
# The table
#===------------------------------------------------------------------------===#

def fmt(v, digits=0):
    return "-" if v is None else "{:,.{}f}".format(v, digits)


def summarize(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "best": max(values), "all": values}


def summarize_rss(values):
    values = [v for v in values if v is not None]
    return {"median": statistics.median(values), "best": min(values), "all": values} if values else None


def collect(res):
    """Median and best per model, side and measure over the rounds."""
    out = {}
    for name, rounds in res["rounds"].items():
        m = {}
        for side in ("fm", "pytorch"):
            rs = [r[side] for r in rounds if side in r]
            if not rs:
                continue
            m[side] = {
                "train_img_per_s": summarize([r["train"]["train_img_per_s"] for r in rs]),
                "infer_img_per_s": summarize([r["infer"]["infer_img_per_s"] for r in rs]),
                "train_peak_rss_mb": summarize_rss([r["train"]["train_peak_rss_mb"] for r in rs]),
                "test_acc": summarize([r["train"]["test_acc"] for r in rs]),
            }
        flops = res["flops_per_step"].get(name)
        if flops:
            batch, peak = MODELS[name]["batch"], res["sgemm"]["gflops"] * 1e9
            for side in m:
                t = m[side]["train_img_per_s"]
                m[side]["mfu"] = summarize([flops * v / batch / peak for v in t["all"]])
        out[name] = m
    return out


def verdicts(res):
    out = {}
    s = res["summary"]
    for label, name, key, bound in TARGETS:
        m = s.get(name, {})
        if "fm" in m and "pytorch" in m:
            ratio = m["fm"][key]["median"] / m["pytorch"][key]["median"]
            out["%s %s" % (name, label)] = "PASS" if ratio >= bound else "FAIL"
    name, bound = MFU_TARGET
    if "mfu" in s.get(name, {}).get("fm", {}):
        out["%s FLOP utilisation" % name] = "PASS" if s[name]["fm"]["mfu"]["median"] >= bound else "FAIL"
    for name, m in s.items():
        if "fm" in m and "pytorch" in m and m["fm"]["test_acc"] and m["pytorch"]["test_acc"]:
            gap = 100 * (m["pytorch"]["test_acc"]["median"] - m["fm"]["test_acc"]["median"])
            out["%s learned" % name] = "PASS" if gap <= LEARNED_POINTS else "FAIL"
    cnn = res["compile"].get("cnn")
    if cnn:
        for key, bound in COMPILE_TARGETS.items():
            out["cnn fmc %s" % key] = "PASS" if cnn[key] <= bound else "FAIL"
    return out


def print_table(res):
    a = res["settings"]
    mach = res["machine"]
    print()
    print("fm vs %s, %d rounds alternating (fm first in odd rounds), %d threads pinned to cores %s"
          % (res.get("peer", "PyTorch"), a["rounds"], a["threads"], mach["pinned_cores"]))
    print("CPU: %s; ISA: %s" % (mach["cpu"], " ".join(mach["isa"])))
    print("fm kernels: %s" % res.get("fm_kernels", "?"))
    t = res.get("torch")
    if t:
        capability = re.search(r"CPU capability usage: (\S+)", t["config"])
        onednn = re.search(r"MKL-DNN (v[0-9.]+)", t["config"])
        print("PyTorch %s: %d threads; ATen CPU capability %s; oneDNN %s (%s); BLAS %s; OMP_NUM_THREADS=%s "
              "OPENBLAS_NUM_THREADS=%s" % (
                  t["version"], t["threads"], capability.group(1) if capability else "?",
                  onednn.group(1) if onednn else "?", "on" if t["mkldnn"] else "off",
                  ", ".join(os.path.basename(b) for b in t["blas_libraries"]) or "?",
                  t["env"]["OMP_NUM_THREADS"], t["env"]["OPENBLAS_NUM_THREADS"]))
    print("load average before / after: %s / %s; cores busy with other work at a measurement's start: at most"
          " %.2f%s" % (res["load_before"], res["load_after"], res["max_load"],
                       "" if res["max_load"] <= QUIET_LOAD else "  (NOT a quiet machine: figures are unreliable)"))
    print("SGEMM peak: %.1f GFLOP/s (OpenBLAS %s kernels, %dx%d f32, %d threads; best over the run); with the kernels"
          " OpenBLAS picks itself here (%s, as PyTorch runs): %.1f"
          % (res["sgemm"]["gflops"], mach.get("openblas_peak_core", "?"), res["sgemm"]["n"], res["sgemm"]["n"],
             a["threads"], mach.get("openblas_core", "?"), res["sgemm_default_core"]["gflops"]))
    print("training: the median epoch after the first of %d (MLP: %d) over each model's first L images; inference: whole passes over the"
          " 10,000 test images, batch %d, probabilities back on the host; peak RSS: the training process, the"
          " data set held as uint8 on both sides" % (a["epochs"], a["epochs"] + MODELS["mlp"]["extra_epochs"],
                                                      INFER_BATCH))
    print()
    row = "{:<7} {:<22} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8}  {}"
    print(row.format("model", "measure", "fm median", "fm best", "PT median", "PT best", "fm/PT", "target", "result"))
    targets = {(m, k): b for _, m, k, b in TARGETS}
    names = {"train_img_per_s": "training img/s", "infer_img_per_s": "inference img/s",
             "train_peak_rss_mb": "peak RSS MB, training", "test_acc": "test accuracy", "mfu": "FLOP utilisation"}
    v = res["verdicts"]
    for name, m in res["summary"].items():
        fm, pt = m.get("fm", {}), m.get("pytorch", {})
        for key, label in names.items():
            f, p = fm.get(key), pt.get(key)
            if not f and not p:
                continue
            pct = key in ("test_acc", "mfu")
            show = (lambda x: "-" if x is None else "%.1f%%" % (100 * x)) if pct else fmt
            ratio = f["median"] / p["median"] if f and p and not pct else None
            target, verdict = "", ""
            if (name, key) in targets:
                target, verdict = ">=%.1fx" % targets[(name, key)], v.get("%s %s" % (name, label), "")
            if key == "mfu" and name == MFU_TARGET[0]:
                target, verdict = ">=%.0f%%" % (100 * MFU_TARGET[1]), v.get("%s FLOP utilisation" % name, "")
            if key == "test_acc":
                target, verdict = "-%.0fpt" % LEARNED_POINTS, v.get("%s learned" % name, "")
            print(row.format(name if key == "train_img_per_s" else "", label,
                             show(f["median"] if f else None), show(f["best"] if f else None),
                             show(p["median"] if p else None), show(p["best"] if p else None),
                             "-" if ratio is None else "%.2fx" % ratio, target, verdict))
    for name, c in res["compile"].items():
        print("%s: fmc %.1f s cold, %.2f s cached%s" % (
            name, c["compile_cold_s"], c["compile_cached_s"],
            " (targets <=%.0f s, <=%.0f s)" % (COMPILE_TARGETS["compile_cold_s"], COMPILE_TARGETS["compile_cached_s"])
            if name == "cnn" else ""))
    print("\ntargets: %d PASS, %d FAIL" % (sum(x == "PASS" for x in v.values()), sum(x == "FAIL" for x in v.values())))


def print_schedules(res):
    for name, table in res.get("schedules", {}).items():
        hand = table["hand"]
        print()
        print("%s: hand schedules against Halide's autoschedulers (fmrun bench)" % name)
        row = "{:<15} {:>12} {:>9} {:>14} {:>9} {:>10}"
        print(row.format("schedule", "train img/s", "hand/x", "predict img/s", "hand/x", "compile s"))
        for schedule, m in table.items():
            print(row.format(schedule, fmt(m["train_img_per_s"]), "%.2fx" % (hand["train_img_per_s"] / m["train_img_per_s"]),
                             fmt(m["infer_img_per_s"]), "%.2fx" % (hand["infer_img_per_s"] / m["infer_img_per_s"]),
                             "-" if m["compile_s"] is None else "%.1f" % m["compile_s"]))


#===------------------------------------------------------------------------===#
# main
#===------------------------------------------------------------------------===#

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="cnn,cnn_bn,resnet,mlp", help="comma-separated: " + ", ".join(MODELS))
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (at least 3 for a measurement)")
    ap.add_argument("--epochs", type=int, default=2, help="training epochs per round; the last is timed")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--passes", type=int, default=3, help="timed inference passes per round (after a warm-up)")
    ap.add_argument("--quick", action="store_true",
                    help="a check that the harness works, not a measurement: 1 round, a tenth of the images")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch (fm figures only)")
    ap.add_argument("--autoschedulers", action="store_true",
                    help="also compare the hand schedules with Halide's autoschedulers (%s; minutes)"
                         % ", ".join(AUTOSCHEDULERS))
    ap.add_argument("--json", default=os.path.join(ROOT, "bench", "results", "latest.json"))
    ap.add_argument("--build", default=os.environ.get("FM_BUILD_DIR", os.path.join(ROOT, "build")))
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    scale = 10 if a.quick else 1
    a.limit = lambda name: max(MODELS[name]["batch"] * 4, MODELS[name]["limit"] // scale)
    a.train_epochs = lambda name: a.epochs + MODELS[name].get("extra_epochs", 0)
    if a.quick:
        a.rounds, a.passes = 1, 1
    elif a.rounds < 3:
        log("bench: note: fewer than 3 rounds is not a measurement the targets accept")
    a.bench_steps = 5 if a.quick else 20
    a.cores = "0-%d" % (a.threads - 1) if a.threads > 1 else "0"
    if a.threads > (os.cpu_count() or 1):
        sys.exit("bench: --threads %d but this machine has %d cores" % (a.threads, os.cpu_count()))
    names = [m for m in a.models.split(",") if m]
    for m in names:
        if m not in MODELS:
            sys.exit("bench: unknown model '%s'; expected %s" % (m, ", ".join(MODELS)))
    for t in ("fmc", "fmrun"):
        if not os.access(tool(a, t), os.X_OK):
            sys.exit("bench: no %s in %s/bin (build it, or set --build / FM_BUILD_DIR)" % (t, a.build))
    if not shutil.which("taskset"):
        sys.exit("bench: needs taskset (util-linux) to pin both sides to the same cores")

    res = {"settings": {"models": names, "rounds": a.rounds, "epochs": a.epochs, "threads": a.threads,
                        "passes": a.passes, "quick": a.quick, "limits": {n: a.limit(n) for n in names},
                        "batches": {n: MODELS[n]["batch"] for n in names}, "infer_batch": INFER_BATCH},
           "machine": machine(a), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
           "load_before": " ".join("%.2f" % l for l in os.getloadavg()), "rounds": {n: [] for n in names},
           "compile": {}, "flops_per_step": {}}
    if not a.no_torch:
        res["torch"] = torch_info(a)
        res["peer"] = "PyTorch " + res["torch"]["version"]
    sgemm_n = 1024 if a.quick else 2048
    log("SGEMM peak...")
    coretype = peak_coretype(res["machine"])
    res["machine"]["openblas_core"] = openblas_core(a)
    res["machine"]["openblas_peak_core"] = openblas_core(a, coretype) if coretype else res["machine"]["openblas_core"]
    res["sgemm"] = sgemm_peak(a, sgemm_n, coretype)
    res["sgemm_default_core"] = sgemm_peak(a, sgemm_n)
    peaks = [res["sgemm"]["gflops"]]
    tmp = tempfile.mkdtemp(prefix="fm-bench-")
    loads = []
    try:
        libs = {}
        for name in names:
            log("compiling %s..." % MODELS[name]["source"])
            libs[name], (cold, cached) = compile_model(a, name, tmp)
            res["compile"][name] = {"compile_cold_s": round(cold, 2), "compile_cached_s": round(cached, 2)}
        for r in range(a.rounds):
            for name in names:
                sides = ["fm", "pytorch"] if r % 2 == 0 else ["pytorch", "fm"]
                entry = {}
                for side in sides:
                    if side == "pytorch" and a.no_torch:
                        continue
                    log("round %d/%d, %s, %s: training and inference..." % (r + 1, a.rounds, name, side))
                    if side == "fm":
                        entry["fm"] = {"train": fm_train(a, name, libs[name], tmp), "infer": fm_infer(a, libs[name])}
                        res["fm_kernels"] = entry["fm"]["infer"]["kernels"]
                    else:
                        entry["pytorch"] = {"train": torch_train(a, name), "infer": torch_infer(a, name)}
                    loads += [entry[side]["train"]["load"], entry[side]["infer"]["load"]]
                res["rounds"][name].append(entry)
            peaks.append(sgemm_peak(a, sgemm_n, coretype)["gflops"])
        res["sgemm"]["gflops"] = max(peaks)
        res["sgemm"]["all"] = peaks
        for name in names:
            log("fm %s: per-kernel profile of train_step..." % name)
            bench, _ = fm_bench(a, libs[name], "train", MODELS[name]["batch"], a.bench_steps, ["--profile"])
            res["flops_per_step"][name] = contraction_flops(bench["profile"])
            if name == "cnn":
                res["profile"] = bench
            if a.autoschedulers:
                res.setdefault("schedules", {})[name] = compare_schedules(a, name, libs[name], tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    res["load_after"] = " ".join("%.2f" % l for l in os.getloadavg())
    res["max_load"] = max(loads) if loads else 0.0
    res["summary"] = collect(res)
    res["verdicts"] = verdicts(res)
    if "profile" in res:
        print("fmrun bench --profile (cnn train_step, %d threads; %% peak of %.1f GFLOP/s SGEMM):"
              % (a.threads, res["sgemm"]["gflops"]))
        print(format_profile(res["profile"], res["sgemm"]["gflops"]).rstrip())
    print_table(res)
    print_schedules(res)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
        print("results: " + a.json)


if __name__ == "__main__":
    main()
