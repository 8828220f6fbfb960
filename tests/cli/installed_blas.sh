#!/usr/bin/env bash
# installed_blas.sh BUILD_DIR BLAS_DIR WORK: installs the build into WORK/prefix and checks that the
# installed bnlab loads its BLAS from BLAS_DIR (the one it was built for), not whichever
# libopenblas.so.0 the system's alternatives point at.
set -euo pipefail
build=$1 blas_dir=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
blas=$(ldd "$work/prefix/bin/bnlab" | grep -E 'lib(openblas|blis)' | awk '{print $3}')
case "$blas" in
  "$blas_dir"/*) echo "ok: the installed bnlab loads $blas" ;;
  *) echo "FAIL: the installed bnlab loads '${blas:-no BLAS}', not the BLAS in $blas_dir"; exit 1 ;;
esac
