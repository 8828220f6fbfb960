#!/usr/bin/env bash
# idx_case.sh BNLAB FILE ROLE DIR: a data folder DIR/mnist whose ROLE file (e.g.
# train-images-idx3-ubyte) is FILE, the other training file valid, read by `bnlab data info`.
set -eu
bnlab=$1 file=$2 role=$3 dir=$4
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dir" && mkdir -p "$dir/mnist"
cp "$here/idx/valid-images" "$dir/mnist/train-images-idx3-ubyte"
cp "$here/idx/valid-labels" "$dir/mnist/train-labels-idx1-ubyte"
rm "$dir/mnist/$role"
case $file in *.gz) role=$role.gz ;; esac
cp "$file" "$dir/mnist/$role"
exec "$bnlab" data info --data-dir "$dir"
