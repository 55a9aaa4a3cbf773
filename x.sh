#!/usr/bin/env bash
# fm's two user commands (plus the benchmark):
#   ./x.sh demo    install what is missing, build, train the MLP on Fashion-MNIST
#   ./x.sh test    install what is missing, build, run every test
#   ./x.sh bench   fm against PyTorch, side by side (run on a quiet machine)
set -euo pipefail
cd "$(dirname "$0")"
BUILD=${FM_BUILD_DIR:-build}
JOBS=${FM_JOBS:-2}

setup() {
  ./scripts/install-deps.sh
  if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -G Ninja -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
  fi
  ninja -C "$BUILD" -j"$JOBS"
}

case "${1:-}" in
  demo)
    setup
    "$BUILD/bin/fmrun" train examples/mlp.fm "${@:2}"
    ;;
  test)
    setup
    /usr/bin/python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv "$BUILD/test"
    (cd "$BUILD" && ctest --output-on-failure -j"$JOBS")
    ;;
  bench)
    setup
    ./bench/run.sh "${@:2}"
    ;;
  *)
    echo "usage: ./x.sh demo|test|bench" >&2
    exit 2
    ;;
esac
