#!/bin/sh
# Rebuilds the CO-RE test objects. They include a vmlinux.h, generated here into a
# temporary directory from the running kernel's BTF (tsbpf's C dumper, which prints
# what `bpftool btf dump file /sys/kernel/btf/vmlinux format c` prints), so no header
# is committed. CO-RE makes the objects load on other kernels, but they reproduce byte
# for byte only on the kernel whose BTF hash is recorded in vmlinux.sha256 (written
# when the objects are rebuilt in place).
# Usage: test/testdata/core/build.sh [OUTDIR]   Environment: CLANG (default clang-19).
set -eu
CLANG=${CLANG:-clang-19}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
OUT=${1:-$HERE}
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$ROOT" && node --import tsx -e '
  const { dumpC } = await import("./src/btf/index.ts");
  const { vmlinuxBTF } = await import("./src/kernel/btf/kernel-btf.ts");
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
if [ "$OUT" = "$HERE" ]; then
  sha256sum < /sys/kernel/btf/vmlinux | cut -d' ' -f1 > "$HERE/vmlinux.sha256"
fi
