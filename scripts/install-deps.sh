#!/usr/bin/env bash
# Installs every package fm needs to build, test, run the demo and the benchmark peer.
# Idempotent: only missing packages are installed (apt-get, as root).
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config zlib1g-dev libzstd-dev
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools
  libhalide14-0-dev libfmt-dev libgtest-dev
  dataset-fashion-mnist
  python3 python3-numpy python3-torch libopenblas0-openmp
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
