#!/usr/bin/env bash
# The benchmark, one command: fm and PyTorch side by side (see compare.py).
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/compare.py" "$@"
