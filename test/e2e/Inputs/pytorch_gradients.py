#!/usr/bin/env python3
"""fm's gradients against PyTorch's on an example CNN: one step, the same
parameters and the same batch.

fm trains one step of plain SGD twice from the same initial parameters:
with --lr 1e-30, which leaves them as they were to within 1e-30 of the
gradient (fmrun takes no zero rate; these are the parameters both sides
start from, zero-initialised tensors set back to zero), and with --lr 1, after which each parameter is its initial
value minus its gradient. The PyTorch twin of the model
(bench/torch_peer.py) loads the initial parameters, runs the same batch
in training mode and backpropagates the mean cross-entropy. Every
parameter's gradient must agree, norm-wise, within --rtol (1e-4 in f32;
gradient norms under 0.1 absolutely, to rtol * 0.1).
Dropout is taken out of the model first: its masks are fm's own hash.

The batch: the first B Fashion-MNIST training images, scaled to [0, 1]
and dithered by up to one grey level, handed to both sides as the same f32
values (an f32 IDX file for fm). Without the dither most 2x2 windows of
max pooling hold equal values (the background), and a window whose two
largest values differ in the last bit sends its whole gradient to
whichever one rounding made larger: two correct f32 programs, summing in
different orders, then differ by a whole window's gradient (seen: 0.5% of
a batch-norm net's first-layer gradient, while either side in f64 agrees
to 1e-7). That is the gradient's own discontinuity, not an error of
either; the test compares where the gradient is well defined.

usage: pytorch_gradients.py --fmc FMC --fmrun FMRUN --example EXAMPLE.fm
                            --model cnn|cnn_bn|resnet --work DIR [--batch B]
"""
import argparse, gzip, json, os, re, struct, subprocess, sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import torch_peer  # noqa: E402  (the twins of the examples)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])  # keeps the file's order
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": "<f4", "F64": "<f8"}[info["dtype"]]
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + start:8 + n + end], dtype=dtype).reshape(info["shape"]).astype(np.float64)
    return out


def write_idx(path, array):
    """An IDX file: f32 (type 0x0D) or u8 (0x08), big-endian."""
    kind, dtype = (0x0D, ">f4") if array.dtype == np.float32 else (0x08, "u1")
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, kind, array.ndim))
        f.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        f.write(array.astype(dtype).tobytes())


def trainable(params):
    """fm's parameters without batch-norm statistics and optimizer state."""
    return [(k, v) for k, v in params.items()
            if not k.startswith("optim.") and not k.endswith(("running_mean", "running_var"))]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("'%s' failed:\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fmc", required=True)
    ap.add_argument("--fmrun", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--target", default="host", help="fmc --target")
    ap.add_argument("--f64", action="store_true", help="the model in f64 (to tell rounding from bugs)")
    ap.add_argument("--fmc-args", default="", help="more fmc options (--fuse=false --schedule=root: the reference)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)

    source = open(a.example).read()
    source = re.sub(r"\|>\s*dropout\([^)]*\)", "", source)
    source = re.sub(r"dropout\((\w+),\s*[0-9.]+\)", r"\1", source)
    assert "dropout(" not in source, "dropout left in the model"
    if a.f64:
        source = source.replace("input x: f32", "input x: f64")
    fm_source = os.path.join(a.work, "model.fm")
    open(fm_source, "w").write(source)
    normalize = re.search(r"normalize\s*=\s*\[([0-9.]+),\s*([0-9.]+)\]", source)

    data = "/usr/share/datasets/fashion-mnist/"
    pixels = torch_peer.read_idx(data + "train-images-idx3-ubyte.gz")[:a.batch].astype(np.float64)
    labels = torch_peer.read_idx(data + "train-labels-idx1-ubyte.gz")[:a.batch]
    dither = np.random.default_rng(0).uniform(0.0, 1.0, pixels.shape)
    images = ((pixels + dither) / 255.0).astype(np.float32)
    paths = {k: os.path.join(a.work, k + ".idx") for k in ("images", "labels")}
    write_idx(paths["images"], images)
    write_idx(paths["labels"], labels)
    spec = "data=idx(train_images=\"%s\", train_labels=\"%s\", test_images=\"%s\", test_labels=\"%s\")" % (
        paths["images"], paths["labels"], paths["images"], paths["labels"])

    lib_dir = os.path.join(a.work, "lib")
    run([a.fmc, fm_source, "--shared", "-o", lib_dir, "--cache-dir", os.path.join(a.work, "cache"), "--set", spec,
         "--target", a.target] + a.fmc_args.split() + [
         "--set", "optimizer=sgd(lr=1, momentum=0, nesterov=false, weight_decay=0)", "--set", "augment=[]", "--set", "lr_schedule=constant"])
    lib = os.path.join(lib_dir, [f for f in os.listdir(lib_dir) if f.endswith(".so")][0])
    fm_loss = None
    for lr in ("1e-30", "1"):
        out = run([a.fmrun, "train", lib, "--limit", str(a.batch), "--batch", str(a.batch), "--epochs", "1",
             "--validation", "0", "--seed", "0", "--threads", "2", "--lr", lr,
             "--checkpoint-dir", os.path.join(a.work, "lr" + lr)])
        m = re.search(r"epoch 1/1  train loss ([0-9.]+)", out)
        fm_loss = fm_loss or (m and float(m.group(1)))
    before = read_safetensors(os.path.join(a.work, "lr1e-30", "last.safetensors"))
    # A zero-initialised tensor (biases, batch-norm shifts) moved off zero
    # by 1e-30 of its gradient; its start is exactly zero, which matters at
    # ReLU's kink (a background pixel's pre-activation is its bias).
    for v in before.values():
        v[np.abs(v) < 1e-20] = 0.0
    after = read_safetensors(os.path.join(a.work, "lr1", "last.safetensors"))

    twin = torch_peer.build(a.model, dropout=False).double()
    fm_params = trainable(before)
    torch_params = list(twin.named_parameters())
    assert len(fm_params) == len(torch_params), (len(fm_params), len(torch_params))
    with torch.no_grad():
        for (name, value), (tname, p) in zip(fm_params, torch_params):
            v = torch.from_numpy(value)
            if v.dim() == 2:  # dense: fm [in, out], Linear [out, in]
                v = v.t()
            assert tuple(v.shape) == tuple(p.shape), (name, tname, v.shape, p.shape)
            p.copy_(v)

    x = torch.from_numpy(images.astype(np.float64)).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    if normalize:
        x = (x - float(normalize.group(1))) / float(normalize.group(2))
    twin.train()
    loss = torch.nn.functional.cross_entropy(twin(x), y)
    loss.backward()
    print("loss: fm %.4f, PyTorch %.4f" % (fm_loss or float("nan"), loss.item()))

    worst = 0.0
    print("%-36s %12s %12s %10s" % ("parameter", "|grad| fm", "|grad| torch", "rel err"))
    for (name, value), (_, p) in zip(fm_params, torch_params):
        g_fm = torch.from_numpy(value - after[name])
        g_torch = p.grad.t() if p.grad.dim() == 2 else p.grad
        # A gradient that is zero in exact arithmetic (a dense layer's bias
        # before batch norm) is f32 noise: norms under 0.1 are compared
        # absolutely, to rtol * 0.1.
        err = (g_fm - g_torch).norm().item() / max(g_torch.norm().item(), 0.1)
        worst = max(worst, err)
        print("%-36s %12.5g %12.5g %10.2e%s" % (name, g_fm.norm().item(), g_torch.norm().item(), err,
                                                "  FAIL" if err > a.rtol else ""))
    print("worst relative error %.2e (tolerance %.0e): %s" % (worst, a.rtol, "PASS" if worst <= a.rtol else "FAIL"))
    sys.exit(0 if worst <= a.rtol else 1)


if __name__ == "__main__":
    main()
