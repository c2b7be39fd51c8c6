/**
 * Test programs for the ring buffer, perf buffer and trace_pipe tests: XDP programs,
 * written in assembly, that emit known records when run with BPF_PROG_TEST_RUN.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { ProgType } from "../src/uapi/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { scaled } from "./support/kernel.ts";

/** The bytes record `index` of `size` bytes carries: distinct per record and size. */
export function pattern(size: number, index: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (index * 37 + size * 11 + i * 3 + 1) & 0xff;
  return out;
}

/** Assembly storing `bytes` at `*(u8 *)(reg off + i)`. */
export function storeBytes(bytes: Uint8Array, reg: string, off: number): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += `*(u8 *)(${reg} ${signed(off + i)}) = ${bytes[i]}\n`;
  return s;
}

function signed(n: number): string {
  return n < 0 ? `-${-n}` : `+${n}`;
}

/** What one record emitted by {@link ringbufProgram} is. */
export interface Emit {
  readonly size: number;
  /** How: bpf_ringbuf_output, reserve + submit, or reserve + discard. */
  readonly how: "output" | "submit" | "discard";
  /** Which ring (index into the map fds given), default 0. */
  readonly ring?: number;
}

/** Loads an XDP program emitting `emits` (in order) per run; returns XDP_PASS. */
export function ringbufProgram(mapFds: readonly number[], emits: readonly Emit[]): Program {
  let text = "";
  emits.forEach((e, i) => {
    const bytes = pattern(e.size, i);
    const fd = mapFds[e.ring ?? 0]!;
    if (e.how === "output") {
      if (e.size > 256) throw new Error("output records are built on the stack: at most 256 bytes");
      text += storeBytes(bytes, "r10", -256);
      text += `r1 = map_fd(${fd})\nr2 = r10\nr2 += -256\nr3 = ${e.size}\nr4 = 0\ncall bpf_ringbuf_output\n`;
    } else {
      text += `r1 = map_fd(${fd})\nr2 = ${e.size}\nr3 = 0\ncall bpf_ringbuf_reserve\n`;
      text += `if r0 == 0 goto skip${i}\nr6 = r0\n`;
      text += storeBytes(bytes, "r6", 0);
      text += `r1 = r6\nr2 = 0\ncall ${e.how === "submit" ? "bpf_ringbuf_submit" : "bpf_ringbuf_discard"}\n`;
      text += `skip${i}:\n`;
    }
  });
  text += "r0 = 2\nexit\n";
  return Program.load({
    name: "rb_emit",
    type: ProgType.XDP,
    license: "GPL",
    instructions: encodeProgram(assemble(text)),
  });
}

/** What the records of one run of {@link ringbufProgram} should be, in order. */
export function expectedRecords(emits: readonly Emit[], ring = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  emits.forEach((e, i) => {
    if (e.how !== "discard" && (e.ring ?? 0) === ring) out.push(pattern(e.size, i));
  });
  return out;
}

/**
 * An XDP program that sends an 8-byte sequence number (from an array map's slot 0,
 * incremented atomically) with bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU) and
 * returns the helper's result.
 */
export function perfSeqProgram(perfMapFd: number, seqMapFd: number): Program {
  const text = `
    r6 = r1
    *(u32 *)(r10 -4) = 0
    r1 = map_fd(${seqMapFd})
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem
    if r0 == 0 goto out
    r1 = 1
    r1 = atomic_fetch_add((u64 *)(r0 +0), r1)
    *(u64 *)(r10 -16) = r1
    r1 = r6
    r2 = map_fd(${perfMapFd})
    r3 = 0xffffffff ll
    r4 = r10
    r4 += -16
    r5 = 8
    call bpf_perf_event_output
    exit
  out:
    r0 = 2
    exit
  `;
  return Program.load({
    name: "pb_seq",
    type: ProgType.XDP,
    license: "GPL",
    instructions: encodeProgram(assemble(text)),
  });
}

/** An XDP program that prints `message` with bpf_trace_printk. */
export function printkProgram(message: string): Program {
  const bytes = new TextEncoder().encode(`${message}\n`);
  const padded = new Uint8Array(Math.ceil((bytes.length + 1) / 8) * 8);
  padded.set(bytes);
  const text = `${storeBytes(padded, "r10", -padded.length)}
    r1 = r10
    r1 += -${padded.length}
    r2 = ${bytes.length + 1}
    call bpf_trace_printk
    r0 = 2
    exit
  `;
  return Program.load({
    name: "printk",
    type: ProgType.XDP,
    license: "GPL",
    instructions: encodeProgram(assemble(text)),
  });
}

/** A packet for XDP test runs. */
export const PACKET = new Uint8Array(64);

/** Lines of /proc/self/maps that map BPF maps or perf events. */
export function kernelMappings(): number {
  return readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter((l) => /anon_inode:(bpf-map|\[perf_event\])/.test(l)).length;
}

/** Runs `fn` and checks it leaves no descriptor and no mapping behind. */
export async function noLeak(fn: () => void | Promise<void>): Promise<void> {
  const before = fdCounts();
  const mapsBefore = kernelMappings();
  await fn();
  assertFdCounts(before);
  assert.equal(kernelMappings(), mapsBefore, "mappings of maps or perf events left behind");
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Rejects if `p` takes longer than `ms` on a real CPU: the deadline is scaled for this
 * machine (10 times longer under qemu's TCG, see {@link scaled}). `what` (or what it
 * returns, asked at the deadline) names the wait in the error.
 */
export async function within<T>(
  ms: number,
  p: Promise<T>,
  what: string | (() => string),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = scaled(ms);
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(
      () =>
        rej(new Error(`${typeof what === "string" ? what : what()}: no answer within ${limit} ms`)),
      limit,
    );
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}
