/**
 * The BTF the kernel publishes in /sys/kernel/btf: vmlinux's and each module's, read
 * once per process. A module without native code, so that reading these files (as
 * `btf dump file` does) does not load the syscall layer; kernel-btf.ts re-exports it.
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { BTF } from "../../btf/btf.ts";
import { parseBTF } from "../../btf/parse.ts";

/** Where the kernel publishes its BTF (vmlinux, and one file per module). */
export const SYSFS_BTF_DIR = "/sys/kernel/btf";

let vmlinux: BTF | undefined;
const modules = new Map<string, BTF>();

/** Maps a sysfs BTF file where the kernel allows it (set by kernel-btf.ts); else read. */
let mapFile: ((path: string) => Uint8Array | undefined) | undefined;

/**
 * Lets {@link vmlinuxBTF} map the file instead of reading it, with `map` (which answers
 * undefined where it cannot). Set by the module that loads the syscall layer anyway,
 * so that this one stays free of native code.
 */
export function mapSysfsBTFWith(map: (path: string) => Uint8Array | undefined): void {
  mapFile = map;
}

/**
 * The running kernel's BTF, read once from /sys/kernel/btf/vmlinux. Where the syscall
 * layer is loaded (tsbpf/kernel) and the kernel allows it (Linux >= 6.16), the file is
 * mapped rather than read: its `bytes` are then the kernel's read-only pages, and a
 * write to them kills the process.
 *
 * @throws Error when the kernel has no BTF (CONFIG_DEBUG_INFO_BTF off)
 */
export function vmlinuxBTF(): BTF {
  if (!vmlinux) {
    const path = `${SYSFS_BTF_DIR}/vmlinux`;
    if (!existsSync(path)) {
      throw new Error(
        `${path} does not exist: this kernel was built without CONFIG_DEBUG_INFO_BTF`,
      );
    }
    // The kernel checked its own BTF when it booted: parse it without checking again.
    // The Buffer as it is (parseBTF views it): a copy of 5 MB is a millisecond and,
    // being external memory, pushes V8 into an early full GC.
    vmlinux = parseBTF(mapFile?.(path) ?? readFileSync(path), { kernelChecked: true });
  }
  return vmlinux;
}

/** Names of the kernel modules that publish BTF in /sys/kernel/btf (vmlinux excluded). */
export function moduleBTFNames(): string[] {
  if (!existsSync(SYSFS_BTF_DIR)) return [];
  return readdirSync(SYSFS_BTF_DIR)
    .filter((n) => n !== "vmlinux")
    .sort();
}

/**
 * A kernel module's BTF, split on top of vmlinux's, read from /sys/kernel/btf/NAME.
 *
 * @throws Error when the module is not loaded or has no BTF
 */
export function moduleBTF(name: string): BTF {
  let b = modules.get(name);
  if (!b) {
    const path = `${SYSFS_BTF_DIR}/${name}`;
    if (name.includes("/") || !existsSync(path)) {
      throw new Error(`no BTF for kernel module "${name}" (no ${path})`);
    }
    b = parseBTF(readFileSync(path), { base: vmlinuxBTF(), kernelChecked: true });
    modules.set(name, b);
  }
  return b;
}
