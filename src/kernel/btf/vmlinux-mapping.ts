/**
 * vmlinux's BTF mapped from /sys/kernel/btf/vmlinux instead of read (Linux >= 6.16
 * lets the file be mapped, read-only and private): no copy, and none of the ~1,300
 * page-sized reads the kernel answers a read with (11-15 ms in a fresh Node process
 * here, against ~0.1 ms for the mapping). libbpf maps it the same way where it can.
 *
 * @module
 */

import { closeSync, fstatSync, openSync } from "node:fs";
import { SharedMapping } from "../sys/mapping.ts";

/**
 * The bytes of the BTF file at `path` as a read-only mapping kept for the process's
 * life, or undefined where the kernel does not map the file (before Linux 6.16, or no
 * such file): the caller reads it instead. Writing to the bytes kills the process
 * (SIGSEGV), as for any read-only page.
 */
export function mapSysfsBTF(path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    // Never closed: the BTF parsed from it views these bytes for as long as it lives.
    const m = SharedMapping.map(fd, size, 0, "read-private", path);
    return new Uint8Array(m.buffer);
  } catch {
    return undefined; // no mmap for this file on this kernel: read it
  } finally {
    closeSync(fd);
  }
}
