#!/usr/bin/env bash
# Installs everything tsbpf's build and tests need on a fresh Debian 12 machine:
# npm packages, and the reference tools tests compare with (clang-19 and llvm-19 to
# build BPF objects, bpftool and libbpf headers). Run as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
need=()
for pkg in clang-19 llvm-19 bpftool libbpf-dev iproute2; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
npm ci --no-audit --no-fund
