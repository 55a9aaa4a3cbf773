#!/usr/bin/env python3
"""fm against PyTorch on the same machine, in one run, one after the other.

Trains the same model with fm (fmrun) and with PyTorch (../shared/bench/
torch_baseline.py, Debian's python3-torch on OpenBLAS) on Fashion-MNIST with
the same batch, threads and number of epochs, and prints training images/s
for both and their ratio. The last epoch counts (the first warms caches).
Never run beside a build or another benchmark: it halves every figure.

usage: bench/compare.py [--model mlp] [--epochs 2] [--batch 64] [--threads 2]
"""
import argparse, json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {"mlp": "examples/mlp.fm"}


def run_fm(args, build):
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "run.jsonl")
        cmd = [os.path.join(build, "bin", "fmrun"), "train", os.path.join(ROOT, MODELS[args.model]),
               "--epochs", str(args.epochs), "--batch", str(args.batch), "--threads", str(args.threads),
               "--validation", "0", "--seed", "0", "--log", log, "--checkpoint-dir", os.path.join(tmp, "ckpt")]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        events = [json.loads(l) for l in open(log)]
    epochs = [e for e in events if e["event"] == "epoch"]
    test = [e for e in events if e["event"] == "test"][0]
    return {"train_img_per_s": epochs[-1]["images_per_s"], "test_acc": test["acc"]}


def run_torch(args):
    script = os.path.join(ROOT, "..", "shared", "bench", "torch_baseline.py")
    if not os.path.exists(script):
        sys.exit("missing " + script)
    out = subprocess.run(["/usr/bin/python3", script, "--model", args.model, "--epochs", str(args.epochs),
                          "--batch", str(args.batch), "--threads", str(args.threads)],
                         check=True, capture_output=True, text=True).stdout
    last = [json.loads(l) for l in out.splitlines() if l.startswith("{")][-1]
    return {"train_img_per_s": last["train_img_per_s"], "test_acc": last["test_acc"], "peer": last["peer"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="mlp", choices=sorted(MODELS))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--build", default=os.environ.get("FM_BUILD_DIR", os.path.join(ROOT, "build")))
    args = ap.parse_args()
    fm = run_fm(args, args.build)
    torch = run_torch(args)
    ratio = fm["train_img_per_s"] / torch["train_img_per_s"]
    print(f"model {args.model}  batch {args.batch}  threads {args.threads}  epochs {args.epochs} (last epoch timed)")
    print(f"{'':10} {'train img/s':>12} {'test acc':>9}")
    print(f"{'fm':10} {fm['train_img_per_s']:12.0f} {fm['test_acc']:9.4f}")
    print(f"{'pytorch':10} {torch['train_img_per_s']:12.0f} {torch['test_acc']:9.4f}   ({torch['peer']})")
    print(f"fm/pytorch training throughput: {ratio:.2f}x")
    print(json.dumps({"model": args.model, "batch": args.batch, "threads": args.threads,
                      "fm": fm, "pytorch": torch, "train_ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
