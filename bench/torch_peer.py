#!/usr/bin/env python3
"""fm's PyTorch peer: the benchmark models as PyTorch twins, trained and run
the way bench/bench.py runs fm, one measurement per process.

Each model is the PyTorch twin of an example (same layers, shapes, dropout
and batch-norm placement; PyTorch's own initialisers), trained with the
benchmark's recipe on Fashion-MNIST (Debian's dataset-fashion-mnist):
Adam(lr=1e-3), no augmentation or normalisation, pixels scaled to [0, 1],
the example's batch and normalisation (--normalize). The data set is held as uint8, as fm holds it, and
each batch is converted to float32 when it is drawn, so both sides do the
same work and their peak RSS counts the same data.

  --mode train  E epochs over the first --limit training images (a new
                random order each epoch); the rate is the median over the
                epochs after the first (the first warms up). Then
                test accuracy over the 10,000 test images (batch 256):
                the check that the fast run also learned.
  --mode infer  whole passes over the 10,000 test images in batches of 256,
                softmax probabilities copied into one float32 host array
                (fmrun bench --split test does the same); a warm-up pass,
                then --passes timed ones.
  --mode info   what this PyTorch is: version, build configuration (BLAS,
                oneDNN), thread settings, the BLAS library it loaded.

Prints one JSON line. bench/bench.py sets OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS and pins the process to --threads cores before it
starts, as it does for fm; --threads is applied with torch.set_num_threads.

usage: bench/torch_peer.py --model cnn|cnn_bn|resnet|mlp --mode train|infer|info
                           [--batch B] [--threads T] [--epochs E] [--limit N]
                           [--passes P] [--seed S]
"""
import argparse, gzip, json, os, statistics, struct, sys, time

DATA = "/usr/share/datasets/fashion-mnist/"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = struct.unpack(">" + "I" * (data[3]), data[4:4 + 4 * data[3]])
    import numpy as np
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * data[3]).reshape(dims)


def build(name, dropout=True):
    """The twin of examples/<name>.fm; without dropout if asked (the
    gradient test takes it out of both)."""
    import torch.nn as nn

    def drop(p):
        return [nn.Dropout(p)] if dropout else []

    if name == "mlp":  # examples/mlp.fm
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                             nn.Linear(128, 10))
    if name == "cnn":  # examples/fashion_cnn.fm (LANGUAGE.md section 1)
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "cnn_bn":  # examples/fashion_cnn_bn.fm
        def conv_bn(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        return nn.Sequential(
            *conv_bn(1, 32), *conv_bn(32, 32), nn.MaxPool2d(2),
            *conv_bn(32, 64), *conv_bn(64, 64), nn.MaxPool2d(2),
            nn.Flatten(), *drop(0.3), nn.Linear(64 * 7 * 7, 256), nn.BatchNorm1d(256), nn.ReLU(),
            *drop(0.3), nn.Linear(256, 10))
    if name == "resnet":  # examples/resnet_small.fm
        import torch

        class Residual(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.a = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
                                       nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c))

            def forward(self, x):
                return torch.relu(self.a(x) + x)

        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            Residual(16), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 1), Residual(32), nn.MaxPool2d(2),
            Residual(32), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))
    sys.exit("torch_peer: unknown model '%s'" % name)


def info(threads):
    import torch
    with open("/proc/self/maps") as maps:
        blas = sorted({l.split()[-1] for l in maps if "blas" in l.lower() and "/" in l})
    return {"version": torch.__version__, "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "mkldnn": torch.backends.mkldnn.is_available(),
            "blas_libraries": blas,
            "config": torch.__config__.show(), "parallel": torch.__config__.parallel_info(),
            "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_PROC_BIND",
                                                   "OMP_PLACES")}}


NORMALIZE = None  # (mean, std) after scaling, as the example's normalize key


def to_float(images_u8):
    x = images_u8.float().div_(255.0)
    if NORMALIZE:
        x.sub_(NORMALIZE[0]).div_(NORMALIZE[1])
    return x


def test_accuracy(model, x_u8, y):
    import torch
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x_u8.shape[0], 256):
            correct += (model(to_float(x_u8[i:i + 256])).argmax(1) == y[i:i + 256]).sum().item()
    return correct / x_u8.shape[0]


def train(a, model, data):
    import torch
    import torch.nn as nn
    x_u8, y, xt_u8, yt = data
    n = min(a.limit, x_u8.shape[0]) if a.limit else x_u8.shape[0]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    steps = n // a.batch
    seconds, losses = [], []
    for _ in range(a.epochs):
        perm = torch.randperm(n)
        model.train()
        total = 0.0
        start = time.perf_counter()
        for s in range(steps):
            b = perm[s * a.batch:(s + 1) * a.batch]
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(to_float(x_u8[b])), y[b])
            loss.backward()
            opt.step()
            total += loss.item()
        seconds.append(time.perf_counter() - start)
        losses.append(total / steps)
    # As fm's side: the median rate over the epochs after the first.
    rates = [steps * a.batch / t for t in (seconds[1:] or seconds)]
    return {"train_img_per_s": round(statistics.median(rates), 1), "epoch_seconds": seconds,
            "mean_loss": losses, "steps_per_epoch": steps,
            "test_acc": test_accuracy(model, xt_u8, yt)}


def infer(a, model, data):
    import numpy as np
    import torch
    _, _, xt_u8, _ = data
    model.eval()
    out = np.empty((xt_u8.shape[0], 10), dtype=np.float32)

    def one_pass():
        start = time.perf_counter()
        with torch.no_grad():
            for i in range(0, xt_u8.shape[0], a.batch):
                probs = torch.softmax(model(to_float(xt_u8[i:i + a.batch])), 1)
                out[i:i + probs.shape[0]] = probs.numpy()
        return time.perf_counter() - start

    one_pass()  # warm-up: thread pool, oneDNN primitives, pages
    seconds = [one_pass() for _ in range(a.passes)]
    n = xt_u8.shape[0]
    return {"samples": n, "img_per_s": round(n / min(seconds), 1),
            "median_img_per_s": round(n / statistics.median(seconds), 1), "pass_seconds": seconds}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="cnn")
    ap.add_argument("--mode", default="train", choices=["train", "infer", "info"])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="training images (0: all 60,000)")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--normalize", default="", help="MEAN,STD applied after scaling to [0, 1]")
    a = ap.parse_args()
    global NORMALIZE
    if a.normalize:
        NORMALIZE = tuple(float(v) for v in a.normalize.split(","))
    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    result = {"peer": "pytorch-" + torch.__version__, "model": a.model, "mode": a.mode, "batch": a.batch,
              "threads": a.threads}
    if a.mode == "info":
        result.update(info(a.threads))
    else:
        x = torch.from_numpy(read_idx(DATA + "train-images-idx3-ubyte.gz").copy()).unsqueeze(1)
        y = torch.from_numpy(read_idx(DATA + "train-labels-idx1-ubyte.gz").astype("int64"))
        xt = torch.from_numpy(read_idx(DATA + "t10k-images-idx3-ubyte.gz").copy()).unsqueeze(1)
        yt = torch.from_numpy(read_idx(DATA + "t10k-labels-idx1-ubyte.gz").astype("int64"))
        model = build(a.model)
        result.update((train if a.mode == "train" else infer)(a, model, (x, y, xt, yt)))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
