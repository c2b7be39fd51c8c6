/**
 * examples/log's object and an openat event for it, shared by the VM and kernel log
 * tests: the tracepoint context `struct sys_enter_openat_args` and the "user memory"
 * its filename points to.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadCollectionSpec } from "../../src/elf/index.ts";
import type { CollectionSpec } from "../../src/spec/index.ts";
import type { VmRunInput } from "../../src/vm/index.ts";

/** examples/log/log.bpf.o's spec. */
export function logExampleSpec(): CollectionSpec {
  const file = join(import.meta.dirname, "../../examples/log/log.bpf.o");
  return loadCollectionSpec(readFileSync(file));
}

/** test/testdata/elf/log-kinds.bpf.o's spec: every kind of log argument, in an XDP program. */
export function logKindsSpec(): CollectionSpec {
  const file = join(import.meta.dirname, "../testdata/elf/log-kinds.bpf.o");
  return loadCollectionSpec(readFileSync(file));
}

/** A packet for log_kinds: Ethernet source 02:00:00:aa:bb:cc, IPv4 source 192.168.1.20. */
export function logKindsPacket(): Uint8Array {
  const pkt = new Uint8Array(64);
  pkt.set([2, 0, 0, 0xaa, 0xbb, 0xcc], 6);
  pkt.set([192, 168, 1, 20], 26);
  return pkt;
}

/** The lines log_kinds logs for {@link logKindsPacket}, then for its first 20 bytes. */
export const LOG_KINDS_LINES = [
  "[INFO  log_kinds] from 02:00:00:aa:bb:cc 192.168.1.20",
  "[DEBUG log_kinds] 200 -5 60000 -300 4000000000 -7 18446744073709551615 -9",
  "[TRACE log_kinds] [a string longer] [x] [   hi] [ab  ]",
  "[WARN  log_kinds] no arguments, 100%",
  "[ERROR log_kinds] short packet: 20 bytes",
];

/** An openat(2) as the VM runs it: the context, the calling task, the file name in user memory. */
export interface OpenatEvent {
  readonly pid: number;
  readonly comm: string;
  readonly dfd: number;
  readonly file: string;
  readonly flags: number;
  readonly mode: number;
}

const FILENAME_ADDR = 0x7f00_0000_1000n;

/** The VM run input of `ev` for log_openat. */
export function openatRun(ev: OpenatEvent): VmRunInput {
  const ctx = new Uint8Array(48);
  const v = new DataView(ctx.buffer);
  v.setBigUint64(16, BigInt(ev.dfd >>> 0), true); // the event zero-extends the int
  v.setBigUint64(24, FILENAME_ADDR, true);
  v.setBigUint64(32, BigInt(ev.flags), true);
  v.setBigUint64(40, BigInt(ev.mode), true);
  const bytes = new TextEncoder().encode(`${ev.file}\0`);
  return {
    ctx,
    task: { pid: ev.pid, comm: ev.comm },
    probeMemory: [{ address: FILENAME_ADDR, bytes, space: "user" }],
  };
}
