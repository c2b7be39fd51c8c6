/**
 * What profile and offcputime print from their maps: the sums kept per (thread or
 * process, command name, user stack id, kernel stack id) in `counts` (stack.bpf.h's
 * `struct stack_key`), the stacks read by id from the BPF_MAP_TYPE_STACK_TRACE map,
 * their addresses named (kernel ones from /proc/kallsyms, user ones from the process's
 * mapped files), in BCC's layouts: a block per stack (kernel frames leaf first, `--`
 * with -d, user frames, then `-  comm (pid)` and the sum), or one folded line per
 * stack for flamegraph.pl (`comm;user frames root first;-;kernel frames sum`).
 *
 * @module
 */

import type { BpfMap } from "../../kernel/maps/map.ts";
import { Errno } from "../../uapi/index.ts";
import type { KernelSymbolTable } from "./kernel-symbol-table.ts";
import { ProcessSymbols } from "./process-symbols.ts";

/** Bytes of `struct stack_key`. */
export const STACK_KEY_SIZE = 32;

/** One entry of `counts`. */
export interface StackSum {
  /** The thread (offcputime) or process (profile) shown in `comm (pid)`. */
  readonly pid: number;
  /** The process whose maps name the user addresses. */
  readonly tgid: number;
  /** The task's command name when it was sampled or switched out. */
  readonly comm: string;
  /** The stack's id in the stack map, or a negative errno from bpf_get_stackid (-1: not taken). */
  readonly userStackId: number;
  /** Likewise for the kernel stack. */
  readonly kernelStackId: number;
  /** Samples (profile) or microseconds off the CPU (offcputime). */
  readonly value: number;
}

/**
 * Decodes an entry of `counts`.
 * @throws RangeError when the key or value has the wrong size
 */
export function decodeStackSum(key: Uint8Array, value: Uint8Array): StackSum {
  if (key.length !== STACK_KEY_SIZE || value.length !== 8) {
    throw new RangeError(
      `counts entry: key of ${key.length} bytes, value of ${value.length} (want ${STACK_KEY_SIZE} and 8)`,
    );
  }
  const k = new DataView(key.buffer, key.byteOffset, key.length);
  const v = new DataView(value.buffer, value.byteOffset, value.length);
  const comm = key.subarray(16, 32);
  const nul = comm.indexOf(0);
  return {
    pid: k.getUint32(0, true),
    tgid: k.getUint32(4, true),
    userStackId: k.getInt32(8, true),
    kernelStackId: k.getInt32(12, true),
    comm: new TextDecoder().decode(nul < 0 ? comm : comm.subarray(0, nul)),
    value: Number(v.getBigUint64(0, true)),
  };
}

/** The addresses of stack `id` in a stack map, leaf first (the value ends at the first 0). */
export function readStack(stacks: BpfMap, id: number): bigint[] {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, id, true);
  const bytes = stacks.lookup(key);
  if (!bytes) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: bigint[] = [];
  for (let at = 0; at + 8 <= bytes.length; at += 8) {
    const ip = view.getBigUint64(at, true);
    if (ip === 0n) break;
    out.push(ip);
  }
  return out;
}

/**
 * True when bpf_get_stackid failed: -EFAULT is no failure but a stack that is not
 * there (the user stack of a kernel thread), shown empty.
 */
export function stackMissed(id: number): boolean {
  return id < 0 && id !== -Errno.EFAULT;
}

/** A stack entry with its frames named, leaf first. */
export interface NamedStack {
  /** As {@link StackSum.pid}. */
  readonly pid: number;
  /** The command name. */
  readonly comm: string;
  /** The sum: samples or microseconds. */
  readonly value: number;
  /** User frames; null when the stack was missed, undefined when not shown (-K). */
  readonly user?: readonly string[] | null;
  /** Kernel frames; null when missed, undefined when not shown (-U). */
  readonly kernel?: readonly string[] | null;
}

/** Which stacks to show and how to name kernel frames. */
export interface NameOptions {
  /** Show user stacks (not -K). */
  readonly user: boolean;
  /** Show kernel stacks (not -U). */
  readonly kernel: boolean;
  /** Suffix kernel frames with `_[k]` (-a), as flamegraph.pl colours them. */
  readonly annotations?: boolean;
  /**
   * Leaf kernel frames to leave out while this says so: the tracepoint's own frames
   * (the BPF program and the code calling it) above where the task really was.
   */
  readonly hideLeaf?: (name: string) => boolean;
}

/** What {@link nameStacks} found. */
export interface NamedStacks {
  readonly stacks: NamedStack[];
  /** Stacks bpf_get_stackid could not save (BCC's "could not be displayed"). */
  readonly missed: number;
  /** Some failed for want of room (-ENOMEM, -EEXIST): a bigger --stack-storage-size helps. */
  readonly full: boolean;
}

const UNKNOWN = "[unknown]";

/**
 * Names the frames of `sums`, reading stacks with `stack(id)`; entries that then print
 * the same are merged ({@link mergeStacks}).
 */
export function nameStacks(
  sums: readonly StackSum[],
  stack: (id: number) => readonly bigint[],
  kernel: KernelSymbolTable,
  opts: NameOptions,
): NamedStacks {
  const processes = new Map<number, ProcessSymbols>();
  const userName = (tgid: number, ip: bigint) => {
    let p = processes.get(tgid);
    if (!p) {
      p = new ProcessSymbols(tgid);
      processes.set(tgid, p);
    }
    return p.name(ip) ?? UNKNOWN;
  };
  const suffix = opts.annotations ? "_[k]" : "";
  let missed = 0;
  let full = false;
  const frames = (id: number, name: (ip: bigint) => string): string[] | null => {
    if (stackMissed(id)) {
      missed++;
      // the map full, or the stack's bucket taken by another (no BPF_F_REUSE_STACKID)
      full ||= id === -Errno.ENOMEM || id === -Errno.EEXIST;
      return null;
    }
    return id < 0 ? [] : stack(id).map(name);
  };
  const kernelFrames = (id: number) => {
    const names = frames(id, (ip) => kernel.name(ip) ?? UNKNOWN);
    if (!names) return names;
    const hide = opts.hideLeaf;
    const first = hide ? names.findIndex((n) => !hide(n)) : 0;
    return names.slice(first < 0 ? names.length : first).map((n) => `${n}${suffix}`);
  };
  const stacks = sums.map((s) => ({
    pid: s.pid,
    comm: s.comm,
    value: s.value,
    ...(opts.user && { user: frames(s.userStackId, (ip) => userName(s.tgid, ip)) }),
    ...(opts.kernel && { kernel: kernelFrames(s.kernelStackId) }),
  }));
  return { stacks: mergeStacks(stacks), missed, full };
}

/**
 * The stacks with entries that print the same (same pid, command name and frame names:
 * addresses in one function differ in the kernel's stack map) summed into one.
 */
export function mergeStacks(stacks: readonly NamedStack[]): NamedStack[] {
  const byText = new Map<string, NamedStack>();
  for (const s of stacks) {
    const text = JSON.stringify([s.pid, s.comm, s.user, s.kernel]);
    const seen = byText.get(text);
    byText.set(text, seen ? { ...seen, value: seen.value + s.value } : s);
  }
  return [...byText.values()];
}

/** How {@link formatStacks} prints. */
export interface FormatOptions {
  /** One line per stack for flamegraph.pl (--folded). */
  readonly folded?: boolean;
  /** `--` (folded: `-`) between kernel and user frames when both are there (--delimited). */
  readonly delimited?: boolean;
}

/** Both stacks there and not empty: where BCC's -d puts its delimiter. */
const bothStacks = (s: NamedStack) => !!s.user?.length && !!s.kernel?.length;

/** The stacks as BCC prints them, the smallest sum first. */
export function formatStacks(stacks: readonly NamedStack[], opts: FormatOptions = {}): string {
  const sorted = [...stacks].sort((a, b) => a.value - b.value);
  let out = "";
  for (const s of sorted) {
    const delimit = opts.delimited === true && bothStacks(s);
    if (opts.folded) {
      const line = [s.comm];
      if (s.user !== undefined)
        line.push(...(s.user ? [...s.user].reverse() : ["[Missed User Stack]"]));
      if (s.kernel !== undefined) {
        if (delimit) line.push("-");
        line.push(...(s.kernel ? [...s.kernel].reverse() : ["[Missed Kernel Stack]"]));
      }
      out += `${line.join(";")} ${s.value}\n`;
      continue;
    }
    if (s.kernel !== undefined) {
      for (const f of s.kernel ?? ["[Missed Kernel Stack]"]) out += `    ${f}\n`;
    }
    if (s.user !== undefined) {
      if (delimit) out += "    --\n";
      for (const f of s.user ?? ["[Missed User Stack]"]) out += `    ${f}\n`;
    }
    out += `    ${"-".padEnd(16)} ${s.comm} (${s.pid})\n        ${s.value}\n\n`;
  }
  return out;
}

/**
 * The stacks as JSON lines, the smallest sum first: `pid`, `comm`, the sum under
 * `valueName`, and `user_stack`/`kernel_stack` (leaf first; null when missed) for the
 * stacks shown.
 */
export function stacksJson(stacks: readonly NamedStack[], valueName: string): string {
  return [...stacks]
    .sort((a, b) => a.value - b.value)
    .map(
      (s) =>
        `${JSON.stringify({
          pid: s.pid,
          comm: s.comm,
          [valueName]: s.value,
          ...(s.user !== undefined && { user_stack: s.user }),
          ...(s.kernel !== undefined && { kernel_stack: s.kernel }),
        })}\n`,
    )
    .join("");
}
