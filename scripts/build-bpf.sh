#!/bin/sh
# Rebuilds the committed BPF objects of examples/*/*.bpf.c, test/testdata/{elf,cli,hooks}/*.bpf.c
# and src/cli/trace/bpf/*.bpf.c with clang, reproducibly: each object is compiled from its
# own directory with -fdebug-prefix-map, so no absolute path ends up in its debug info
# or BTF. The objects built against a vmlinux.h generated from the running kernel have
# their own scripts: test/testdata/core/build.sh and test/testdata/btf/build.sh. Without
# OUTDIR they run too, but only on the kernel the committed objects were built on (its
# BTF's sha256 in their vmlinux.sha256): elsewhere they would rewrite the committed
# objects for another kernel, so they are skipped with a note (run them by hand to
# move the objects to this kernel). test/elf-collection.test.ts rebuilds every
# committed .bpf.o with these scripts and compares the bytes.
#
# Usage: scripts/build-bpf.sh [OUTDIR]
#   OUTDIR: write objects there (mirroring the source paths) instead of next to the
#   sources; the test that checks reproducibility uses this.
# Environment: CLANG (default clang-19).
set -eu
CLANG=${CLANG:-clang-19}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-}
cd "$ROOT"
for src in examples/*/*.bpf.c test/testdata/elf/*.bpf.c test/testdata/cli/*.bpf.c test/testdata/hooks/*.bpf.c src/cli/trace/bpf/*.bpf.c; do
  [ -e "$src" ] || continue
  dir=$(dirname "$src")
  base=$(basename "$src" .c)
  if [ -n "$OUT" ]; then
    mkdir -p "$OUT/$dir"
    obj="$OUT/$dir/$base.o"
    case "$obj" in /*) ;; *) obj="$ROOT/$obj" ;; esac
  else
    obj="$ROOT/$dir/$base.o"
  fi
  # include/ (tsbpf_log.h) by a relative path: an absolute one would land in the debug info.
  up=$(printf '%s' "$dir" | sed 's|[^/][^/]*|..|g')
  (cd "$dir" && "$CLANG" -g -O2 -target bpf -I/usr/include/x86_64-linux-gnu -I"$up/include" \
    -fdebug-prefix-map="$PWD=." -c "$base.c" -o "$obj")
  echo "$dir/$base.o"
done
if [ -z "$OUT" ]; then
  here=$(sha256sum < /sys/kernel/btf/vmlinux | cut -d' ' -f1)
  for dir in test/testdata/core test/testdata/btf; do
    built=$(cat "$dir/vmlinux.sha256")
    if [ "$here" = "$built" ]; then
      "$dir/build.sh"
    else
      echo "skipped $dir: its objects were built on a kernel whose BTF has sha256 $built," >&2
      echo "  this kernel's is $here; $dir/build.sh rebuilds them for this one" >&2
    fi
  done
fi
