/**
 * BPF_BTF_LOAD of a raw blob, returning just its descriptor: a thin shim over
 * {@link KernelBTF.load} (which grows the log and carries it in the error) for callers
 * that want an {@link Fd}.
 * @module
 */

import { KernelBTF } from "./btf.ts";
import type { Fd } from "./sys/index.ts";

/**
 * Loads a raw BTF blob (header, types, strings) into the kernel and returns its fd.
 * On failure the kernel's BTF log is loaded too and quoted in the error.
 * @param what names the blob in errors, e.g. `BTF of xdp program "count"`.
 * @throws {BTFLoadError} (a `SyscallError`) with the kernel's whole BTF log.
 */
export function loadRawBtf(bytes: Uint8Array, what = "BTF"): Fd {
  return KernelBTF.load(bytes, { what }).fd;
}
