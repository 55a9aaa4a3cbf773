#!/usr/bin/env bash
# The benchmark, one command: fm and PyTorch side by side, fm's per-kernel
# profile against the SGEMM peak, targets PASS/FAIL (see bench.py and
# docs/bench.md). Run it on a quiet machine.
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$@"
