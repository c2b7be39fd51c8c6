#!/usr/bin/env bash
# Installs everything tsbpf's build and tests need on a fresh Debian 12 machine:
# npm packages, and the tools tests and benchmarks use: clang-19 and llvm-19 to build
# BPF objects, bpftool and libbpf (headers and library) to compare with, bpftrace (the
# trace tools' overhead bench, bench/tools.ts, runs its programs beside them), gcc for the
# C baselines and test targets, binutils (nm), python3 (a uprobe test's target),
# iproute2 (network namespaces), chromium (the VM's browser bench, bench/vm-browser.ts),
# time (GNU time: the CLI bench's peak RSS), prometheus (the exporter's test starts its
# own server; the Debian service is stopped and disabled so port 9090 stays free),
# zsh, groff-base and man-db (the completion script and man page tests);
# and for the kernel matrix (scripts/test-kernels.mjs): qemu-system-x86,
# busybox-static, and zstd/lz4/xz-utils to unpack the kernels.
# Run as root (or with sudo).
# Node.js >= 20.19 must already be installed (Debian 12's own nodejs is 18).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
  echo "tsbpf needs Node.js >= 20.19 (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
need=()
for pkg in clang-19 llvm-19 bpftool libbpf-dev bpftrace gcc libc6-dev binutils python3 \
  iproute2 chromium time prometheus zsh groff-base man-db qemu-system-x86 busybox-static \
  zstd lz4 xz-utils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
# The prometheus package starts a server on :9090; tests run their own on free ports.
if [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
elif [ -x /etc/init.d/prometheus ]; then
  $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
fi
# npm install rather than npm ci: npm 11 here records only this platform's optional
# packages (Biome's binaries) in the lock file, and npm ci then refuses it.
npm install --no-audit --no-fund
