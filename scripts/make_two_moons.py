#!/usr/bin/env python3
"""Writes the two-moons binary classification data set fm ships.

Two interleaved half circles in the plane (the shape of scikit-learn's
make_moons), with Gaussian noise, labelled 0 (upper moon) and 1 (lower
moon). The output is CSV with a header row, `x1,x2,label`, ready for
`data = csv("data/moons_train.csv", "data/moons_test.csv", label="label")`.

Usage: scripts/make_two_moons.py [--out DIR] [--train N] [--test N]
                                 [--noise S] [--seed K]

The defaults reproduce examples/data/moons_{train,test}.csv byte for byte:
the only randomness is Python's random.Random(seed) (Mersenne Twister,
whose random() and gauss() are stable across Python versions), and every
number is written with 6 decimals. Standard library only.
"""
import argparse
import math
import os
import random


def moons(count, noise, rng):
    """`count` samples, half of each class, in a seeded random order."""
    rows = []
    for i in range(count):
        label = i % 2
        t = math.pi * rng.random()
        if label == 0:
            x, y = math.cos(t), math.sin(t)
        else:
            x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
        x += rng.gauss(0.0, noise)
        y += rng.gauss(0.0, noise)
        rows.append((x, y, label))
    rng.shuffle(rows)
    return rows


def write(path, rows):
    with open(path, "w", newline="\n") as f:
        f.write("x1,x2,label\n")
        for x, y, label in rows:
            f.write("%.6f,%.6f,%d\n" % (x, y, label))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(here, "..", "examples", "data"))
    p.add_argument("--train", type=int, default=2000)
    p.add_argument("--test", type=int, default=500)
    p.add_argument("--noise", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=20240601)
    a = p.parse_args()
    rng = random.Random(a.seed)
    # One generator, train first: the test rows are fresh draws from the
    # same distribution, never copies of training rows.
    train = moons(a.train, a.noise, rng)
    test = moons(a.test, a.noise, rng)
    os.makedirs(a.out, exist_ok=True)
    write(os.path.join(a.out, "moons_train.csv"), train)
    write(os.path.join(a.out, "moons_test.csv"), test)
    print("wrote %d training and %d test rows to %s"
          % (len(train), len(test), os.path.normpath(a.out)))


if __name__ == "__main__":
    main()
