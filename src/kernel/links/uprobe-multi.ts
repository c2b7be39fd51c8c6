/**
 * uprobe.multi links (`SEC("uprobe.multi/BINARY:PATTERN")`, Linux >= 6.6): one link
 * probing many functions of one binary at once, each at a file offset with its own
 * BPF cookie, optionally only in one process. Much cheaper than a perf event per
 * function when a tool probes hundreds of them.
 *
 * @module
 */

import { resolve } from "node:path";
import { AttachType, ProgType } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { freeNative, type NativeMemory } from "../sys/index.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType, linkCreate } from "./link-create.ts";
import { nativeCString, nativeU64Array } from "./native-arrays.ts";
import { resolveBinary } from "./uprobe-library.ts";
import { functionOffset } from "./uprobe-symbols.ts";

/** `BPF_F_UPROBE_MULTI_RETURN`: probe the functions' returns. */
export const UPROBE_MULTI_RETURN = 1;

/** Options of {@link attachUprobeMulti}: function names or file offsets, not both. */
export interface UprobeMultiOptions {
  /** Function names, found in the binary's `.symtab` or `.dynsym`. */
  readonly symbols?: readonly string[];
  /** File offsets of the instructions to probe. */
  readonly offsets?: readonly bigint[];
  /** One cookie per function (bpf_get_attach_cookie()). */
  readonly cookies?: readonly bigint[];
  /** One USDT semaphore file offset per function (0 for none). */
  readonly refCtrOffsets?: readonly bigint[];
  /** Probe the functions' returns (uretprobes). */
  readonly retprobe?: boolean;
  /** Only this process (default: every process running the binary). */
  readonly pid?: number;
}

/**
 * Attaches an `uprobe.multi` program (expected attach type BPF_TRACE_UPROBE_MULTI) to
 * many functions of `binary` (a path, a library name such as "c", or a program in
 * $PATH) in one link.
 *
 * @throws Error when the binary or a function cannot be found, or the lists disagree in
 * length; NotSupportedError when the kernel has no uprobe.multi links (before 6.6);
 * SyscallError otherwise (ESRCH: no such pid).
 * @example
 * ```ts
 * using link = attachUprobeMulti(prog, "c", { symbols: ["malloc", "free"], cookies: [0n, 1n] });
 * ```
 */
export function attachUprobeMulti(prog: Program, binary: string, opts: UprobeMultiOptions): Link {
  const path = resolve(resolveBinary(binary));
  const syms = opts.symbols ?? [];
  const given = opts.offsets ?? [];
  const count = syms.length || given.length;
  const named = syms.length
    ? `: ${syms.slice(0, 3).join(", ")}${syms.length > 3 ? ", ..." : ""}`
    : "";
  const what = `${opts.retprobe ? "uretprobe" : "uprobe"}.multi ${path} (${count} function${count === 1 ? "" : "s"}${named})`;
  expectProgType(prog, [ProgType.KPROBE], what);
  if (count === 0 || (syms.length && given.length)) {
    throw new Error(`${what}: give either symbols or offsets, at least one`);
  }
  for (const [name, list] of [
    ["cookies", opts.cookies],
    ["semaphore offsets", opts.refCtrOffsets],
  ] as const) {
    if (list && list.length !== count) {
      throw new Error(`${what}: ${list.length} ${name} for ${count} functions`);
    }
  }
  const offsets = syms.length ? syms.map((s) => functionOffset(path, s)) : given;
  const mems: NativeMemory[] = [];
  try {
    const pathPtr = nativeCString(path, mems).address;
    const offsetsPtr = nativeU64Array(offsets, mems).address;
    const refsPtr = opts.refCtrOffsets ? nativeU64Array(opts.refCtrOffsets, mems).address : 0n;
    const cookiesPtr = opts.cookies ? nativeU64Array(opts.cookies, mems).address : 0n;
    const fd = linkCreate(prog, 0, AttachType.TRACE_UPROBE_MULTI, what, (call) => {
      call
        .set("uprobe_multi.path", pathPtr)
        .set("uprobe_multi.offsets", offsetsPtr)
        .set("uprobe_multi.ref_ctr_offsets", refsPtr)
        .set("uprobe_multi.cookies", cookiesPtr)
        .u32("uprobe_multi.cnt", count)
        .u32("uprobe_multi.flags", opts.retprobe ? UPROBE_MULTI_RETURN : 0)
        .u32("uprobe_multi.pid", opts.pid ?? 0);
    });
    return newLink({ fd, description: what });
  } finally {
    for (const m of mems) freeNative(m);
  }
}
