#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) for bnlab: system packages, a Release build,
# `bnlab` installed on the PATH, and the MNIST data fetched and verified. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git ca-certificates python3
  libopenblas-openmp-dev libopenblas-pthread-dev libblis-openmp-dev
  zlib1g-dev libcurl4-openssl-dev libssl-dev libarchive-dev libcairo2-dev fonts-dejavu-core
  libcli11-dev nlohmann-json3-dev libfmt-dev libxml2-dev chromium nodejs
  googletest libgtest-dev libgmock-dev libbenchmark-dev dataset-fashion-mnist
  libxsmm-dev libdnnl-dev  # bench/bench_gemm compares them with the BLAS
  libopenmpi-dev openmpi-bin  # data-parallel training: mpirun -np N bnlab train ...
  clang libclang-rt-14-dev libomp-14-dev  # the sanitizer and fuzzing build (scripts/sanitize.sh)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
cmake --install build --prefix /usr/local >/dev/null
build/bnlab data fetch --dataset mnist
