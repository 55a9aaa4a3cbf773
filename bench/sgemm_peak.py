#!/usr/bin/env python3
"""This machine's SGEMM peak: a large f32 matrix product through OpenBLAS.

Runs torch.mm (Debian's python3-torch calls OpenBLAS, libopenblas0-openmp)
on n x n f32 matrices with the given thread count, best of several rounds,
and prints one JSON line: {"gflops": ..., "n": ..., "threads": ...}. The best
round is the peak: it is the figure with the least interference from
anything else on the machine. bench/bench.py runs it as its own process so
that OpenMP's thread pool never meets another one.

usage: bench/sgemm_peak.py [--n 2048] [--threads 2] [--rounds 10]
"""
import argparse, json, os, sys, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    # Before torch loads OpenBLAS: its pool size is read at start.
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(a.threads)
    import torch
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(a.n, a.n, generator=g)
    y = torch.rand(a.n, a.n, generator=g)
    out = torch.empty(a.n, a.n)
    torch.mm(x, y, out=out)  # warm-up: thread pool, pages
    best = float("inf")
    for _ in range(a.rounds):
        t = time.perf_counter()
        torch.mm(x, y, out=out)
        best = min(best, time.perf_counter() - t)
    flops = 2.0 * a.n ** 3
    # Which BLAS really ran: the reference BLAS is ~20x slower than OpenBLAS.
    with open("/proc/self/maps") as maps:
        libs = sorted({l.split()[-1] for l in maps if "blas" in l.lower() and "/" in l})
    print(json.dumps({"gflops": round(flops / best / 1e9, 1), "n": a.n, "threads": a.threads,
                      "best_ms": round(best * 1e3, 2), "torch": torch.__version__, "blas": libs}))


if __name__ == "__main__":
    sys.exit(main())
