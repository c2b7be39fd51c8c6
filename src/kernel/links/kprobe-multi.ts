/**
 * kprobe.multi links (`SEC("kprobe.multi/PATTERN")`, Linux >= 5.18 with fprobe): one
 * link probing many kernel functions at once, by name or address.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { AttachType, ProgType } from "../../uapi/index.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import type { Program } from "../programs/program.ts";
import { freeNative, type NativeMemory, SyscallError } from "../sys/index.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType, linkCreate } from "./link-create.ts";
import { nativeCString, nativeU64Array } from "./native-arrays.ts";

/** `BPF_F_KPROBE_MULTI_RETURN`. */
export const KPROBE_MULTI_RETURN = 1;

/** Options of {@link attachKprobeMulti}: symbols or addresses, not both. */
export interface KprobeMultiOptions {
  /** Function names. */
  readonly symbols?: readonly string[];
  /** Kernel addresses. */
  readonly addresses?: readonly bigint[];
  /** One cookie per function (bpf_get_attach_cookie()). */
  readonly cookies?: readonly bigint[];
  /** Probe the functions' returns. */
  readonly retprobe?: boolean;
}

/**
 * Function names in /proc/kallsyms matching a shell-style `pattern` (`*`, `?`), as
 * libbpf expands `SEC("kprobe.multi/vfs_*")`. Names are unique and sorted.
 */
export function kallsymsMatching(pattern: string): string[] {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  const out = new Set<string>();
  for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
    const [, type, name] = line.split(/\s+/);
    if (!name || !type || !/[tTwW]/.test(type)) continue;
    if (re.test(name)) out.add(name);
  }
  return [...out].sort();
}

/**
 * Attaches a kprobe program to many functions in one kprobe_multi link.
 *
 * @throws NotSupportedError when the kernel has no kprobe.multi links (no fprobe);
 * SyscallError otherwise (ENOENT/ESRCH: a function is not traceable).
 */
export function attachKprobeMulti(prog: Program, opts: KprobeMultiOptions): Link {
  const syms = opts.symbols ?? [];
  const addrs = opts.addresses ?? [];
  const count = syms.length || addrs.length;
  const what = `${opts.retprobe ? "kretprobe" : "kprobe"}.multi (${count} function${count === 1 ? "" : "s"}${syms.length ? `: ${syms.slice(0, 3).join(", ")}${syms.length > 3 ? ", ..." : ""}` : ""})`;
  expectProgType(prog, [ProgType.KPROBE], what);
  if (count === 0 || (syms.length && addrs.length)) {
    throw new Error(`${what}: give either symbols or addresses, at least one`);
  }
  if (opts.cookies && opts.cookies.length !== count) {
    throw new Error(`${what}: ${opts.cookies.length} cookies for ${count} functions`);
  }
  const mems: NativeMemory[] = [];
  try {
    let symsPtr = 0n;
    if (syms.length) {
      const ptrs = syms.map((s) => nativeCString(s, mems).address);
      symsPtr = nativeU64Array(ptrs, mems).address;
    }
    const addrsPtr = addrs.length ? nativeU64Array(addrs, mems).address : 0n;
    const cookiesPtr = opts.cookies ? nativeU64Array(opts.cookies, mems).address : 0n;
    const fd = linkCreate(prog, 0, AttachType.TRACE_KPROBE_MULTI, what, (call) => {
      call
        .u32("kprobe_multi.flags", opts.retprobe ? KPROBE_MULTI_RETURN : 0)
        .u32("kprobe_multi.cnt", count)
        .set("kprobe_multi.syms", symsPtr)
        .set("kprobe_multi.addrs", addrsPtr)
        .set("kprobe_multi.cookies", cookiesPtr);
    });
    return newLink({ fd, description: what });
  } catch (e) {
    if (e instanceof SyscallError && (e.code === "EOPNOTSUPP" || e.code === "ENOTSUPP")) {
      throw new NotSupportedError(
        what,
        "this kernel has no kprobe.multi links (Linux >= 5.18 built with CONFIG_FPROBE)",
        e.errno,
      );
    }
    throw e;
  } finally {
    for (const m of mems) freeNative(m);
  }
}
