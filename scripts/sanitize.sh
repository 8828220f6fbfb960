#!/usr/bin/env bash
# Builds bnlab with AddressSanitizer and UndefinedBehaviorSanitizer (clang, in build-asan/) and runs
# the whole test suite on it. The same build holds the libFuzzer targets (scripts/fuzz.sh), so one
# extra build serves both. Run after scripts/setup.sh, which installs clang.
set -euo pipefail
cd "$(dirname "$0")/.."

CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DBNLAB_SANITIZE=ON -DBNLAB_FUZZ=ON \
  -DBNLAB_BENCH=OFF >/dev/null
cmake --build build-asan -j "$(nproc)"
source scripts/sanitizer_env.sh
ctest --test-dir build-asan --output-on-failure -j2
