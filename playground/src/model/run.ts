/**
 * "Run": a program in tsbpf's VM on a packet (or context), as `tsbpf vm run` runs one:
 * the same VmProgram, the interpreter or the JIT, maps kept between runs until the
 * program changes, and what a run leaves behind (maps, ring buffer records,
 * trace_printk lines, the packet after it).
 *
 * Pure: no DOM, no `node:` imports.
 * @module
 */

import type { CollectionSpec } from "../../../src/spec/collection-spec.ts";
import { mapTypeName, ProgType } from "../../../src/uapi/index.ts";
import type { VerifierCase } from "../../../src/verifier/index.ts";
import { isSkbProgType } from "../../../src/vm/context.ts";
import { VirtualMachine, VmProgram, VmRingBuf } from "../../../src/vm/index.ts";
import { createVmMap } from "../../../src/vm/maps/create.ts";
import type { VmMap } from "../../../src/vm/maps/map.ts";

/** Which engine runs the program: the JIT (WebAssembly or JavaScript) or the interpreter. */
export type Engine = "jit" | "interpret";

/** Input of one run. */
export interface RunInput {
  /** The packet (XDP and skb programs need at least 14 bytes). */
  readonly data?: Uint8Array;
  /** The context struct, when the program type takes one. */
  readonly ctx?: Uint8Array;
  /** Runs in a row (as BPF_PROG_TEST_RUN's repeat); at least 1. */
  readonly repeat: number;
}

/**
 * The run's input from the page's fields. The Packet field always holds something (a
 * default packet), so it goes to programs that take a packet (XDP and the skb types);
 * the others run on the Context, and a tracepoint without one takes the Packet's bytes
 * as its raw record (for a tracepoint, data and ctx mean the same). Any other type given
 * no Context gets the packet, and the VM says it takes none.
 */
export function runInput(
  type: ProgType,
  packet: Uint8Array,
  ctx: Uint8Array | undefined,
  repeat: number,
): RunInput {
  const takesPacket = type === ProgType.XDP || isSkbProgType(type);
  if (takesPacket || ctx === undefined) return { data: packet, ...(ctx ? { ctx } : {}), repeat };
  return { ctx, repeat };
}

/** A map's entries at one moment. */
export interface MapSnapshot {
  readonly name: string;
  /** bpftool's name of its type. */
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  /** Up to {@link MAX_SHOWN_ENTRIES} entries (array maps: every index, zero or not). */
  readonly entries: readonly { readonly key: Uint8Array; readonly value: Uint8Array }[];
  /** True when there were more entries than shown. */
  readonly more: boolean;
}

/** The most entries of one map a snapshot keeps. */
export const MAX_SHOWN_ENTRIES = 64;

/** What one run gave. */
export interface RunOutcome {
  /** The low 32 bits of r0, unsigned: what `tsbpf vm run` prints as the return value. */
  readonly retval: number;
  readonly r0: bigint;
  /** Nanoseconds per run, averaged over the repeats (the VM's own figure). */
  readonly duration: number;
  /** Milliseconds the whole call took, repeats and snapshots included. */
  readonly wallMs: number;
  /** The engine that ran it: `interpreter`, `jit (wasm)`, `jit (js)`. */
  readonly engine: string;
  readonly dataIn: Uint8Array;
  readonly dataOut: Uint8Array;
  readonly ctxOut?: Uint8Array;
  readonly mapsBefore: readonly MapSnapshot[];
  readonly mapsAfter: readonly MapSnapshot[];
  /** Records taken from each ring buffer after the run. */
  readonly ringbuf: readonly { readonly map: string; readonly records: readonly Uint8Array[] }[];
  readonly printk: readonly string[];
  /** Instructions the last run executed. */
  readonly instructions: number;
}

/**
 * A program ready to run on one engine, with its maps; the maps keep their contents
 * from run to run (a new program or engine starts a new runner, with new maps).
 */
export interface Runner {
  readonly maps: Readonly<Record<string, VmMap>>;
  /** Runs the program once (or `repeat` times) and reports. @throws Error when it cannot run. */
  run(input: RunInput): RunOutcome;
}

/** The maps a runner keeps, as snapshots. */
function snapshot(maps: Readonly<Record<string, VmMap>>): MapSnapshot[] {
  return Object.entries(maps)
    .filter(([, m]) => !(m instanceof VmRingBuf))
    .map(([name, m]) => {
      const entries: { key: Uint8Array; value: Uint8Array }[] = [];
      let more = false;
      try {
        for (const [key, value] of m.entries()) {
          if (entries.length === MAX_SHOWN_ENTRIES) {
            more = true;
            break;
          }
          entries.push({ key: key.slice(), value: value.slice() });
        }
      } catch {
        // Maps without entries to list (queues, bloom filters, program arrays).
      }
      return {
        name,
        type: mapTypeName(m.type) ?? String(m.type),
        keySize: m.keySize,
        valueSize: m.valueSize,
        entries,
        more,
      };
    });
}

function runOn(
  prog: VmProgram,
  maps: Readonly<Record<string, VmMap>>,
  input: RunInput,
  jit: boolean,
): RunOutcome {
  const t0 = performance.now();
  const mapsBefore = snapshot(maps);
  const dataIn = input.data ?? new Uint8Array(0);
  const r = prog.run({
    ...(input.data ? { data: input.data } : {}),
    ...(input.ctx ? { ctx: input.ctx } : {}),
    repeat: Math.max(1, input.repeat),
  });
  const ringbuf = Object.entries(maps).flatMap(([map, m]) =>
    m instanceof VmRingBuf ? [{ map, records: [...m.drain()].map((rec) => rec.data) }] : [],
  );
  return {
    retval: r.retval,
    r0: r.r0,
    duration: r.duration,
    engine: jit ? `jit (${prog.jitEngine ?? "js"})` : "interpreter",
    dataIn,
    dataOut: r.dataOut,
    ...(r.ctxOut ? { ctxOut: r.ctxOut } : {}),
    mapsBefore,
    mapsAfter: snapshot(maps),
    ringbuf,
    printk: r.printk,
    instructions: r.instructions,
    wallMs: performance.now() - t0,
  };
}

/**
 * A runner for a program typed in the editor: its case's maps, created empty, and the
 * program on `engine` (the JIT compiles it now, as `tsbpf vm run ... jit` does).
 */
export function textRunner(c: VerifierCase, engine: Engine): Runner {
  const list = c.maps.map((m) => createVmMap(m.spec));
  const maps = Object.fromEntries(c.maps.map((m, i) => [m.spec.name, list[i] as VmMap]));
  const prog = new VmProgram(c.insns, { type: c.progType as ProgType, name: c.name, maps: list });
  const jit = engine === "jit" && prog.jitCompile();
  return { maps, run: (input) => runOn(prog, maps, input, jit) };
}

/**
 * A runner for program `name` of an object, loaded as `tsbpf vm run OBJ PROG` loads it
 * (VirtualMachine.load: every map created with its contents; a program the verifier
 * rejects cannot load).
 * @throws Error when the object cannot load or has no such program.
 */
export function objectRunner(spec: CollectionSpec, name: string, engine: Engine): Runner {
  const vm = VirtualMachine.load(spec);
  const prog = vm.programs[name];
  if (!prog)
    throw new Error(
      `no program "${name}" in the object (it has: ${Object.keys(vm.programs).join(", ") || "none"})`,
    );
  const jit = engine === "jit" && prog.jitCompile();
  return { maps: vm.maps, run: (input) => runOn(prog, vm.maps, input, jit) };
}
