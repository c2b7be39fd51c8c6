#!/bin/sh
# Rebuilds the CO-RE test objects. They include a vmlinux.h, generated here into a
# temporary directory from the running kernel's BTF (tsbpf's C dumper, which prints
# what `bpftool btf dump file /sys/kernel/btf/vmlinux format c` prints), so no header
# is committed. CO-RE makes the objects load on other kernels.
# Usage: test/testdata/core/build.sh [OUTDIR]   Environment: CLANG (default clang-19).
set -eu
CLANG=${CLANG:-clang-19}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
OUT=${1:-$HERE}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$ROOT" && node --import tsx -e '
  const { dumpC } = await import("./src/btf/index.ts");
  const { vmlinuxBTF } = await import("./src/kernel/btf.ts");
  process.stdout.write(dumpC(vmlinuxBTF()));
') > "$TMP/vmlinux.h"
mkdir -p "$OUT"
cd "$HERE"
for src in *.bpf.c; do
  base=$(basename "$src" .c)
  "$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$TMP" -I/usr/include/x86_64-linux-gnu \
    -fdebug-prefix-map="$HERE=." -fdebug-prefix-map="$TMP=." -c "$src" -o "$OUT/$base.o"
  echo "$OUT/$base.o"
done
