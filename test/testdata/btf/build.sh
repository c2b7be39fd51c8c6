#!/bin/sh
# Rebuilds the BTF test objects, stripped of DWARF (llvm-strip -g) so that only their
# BTF and .BTF.ext remain: kitchen.bpf.o from its own types; core.bpf.o against a
# vmlinux.h generated here into a temporary directory from the running kernel's BTF
# (tsbpf's C dumper, which prints what `bpftool btf dump file ... format c` prints).
# core.bpf.o therefore reproduces only on the kernel whose BTF hash is recorded in
# vmlinux.sha256 (written when the objects are rebuilt in place).
# Usage: test/testdata/btf/build.sh [OUTDIR]
# Environment: CLANG (default clang-19), STRIP (default llvm-strip-19).
set -eu
CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
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
"$CLANG" -g -O2 -target bpf -fdebug-prefix-map="$HERE=." -c kitchen.bpf.c -o "$OUT/kitchen.bpf.o"
"$STRIP" -g "$OUT/kitchen.bpf.o"
echo "$OUT/kitchen.bpf.o"
"$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$TMP" -I/usr/include/x86_64-linux-gnu \
  -fdebug-prefix-map="$HERE=." -fdebug-prefix-map="$TMP=." -c core.bpf.c -o "$OUT/core.bpf.o"
"$STRIP" -g "$OUT/core.bpf.o"
echo "$OUT/core.bpf.o"
if [ "$OUT" = "$HERE" ]; then
  sha256sum < /sys/kernel/btf/vmlinux | cut -d' ' -f1 > "$HERE/vmlinux.sha256"
fi
