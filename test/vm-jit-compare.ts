/**
 * One random program (test/vm-random-programs.ts) in one engine, as comparable text:
 * the retval, r0, every register after the run, instruction count, packet and
 * context out, printk lines, map contents and ring-buffer records — or the VmError
 * (message, instruction) when the run fails. Shared by the JIT differential test and
 * the JIT campaign (fuzz/jit.ts), which compare the two engines' texts.
 * @module
 */
import { encodeProgram, type Instruction } from "../src/isa/index.ts";
import {
  createVmMap,
  VmArrayMap,
  VmError,
  VmHashMap,
  type VmMap,
  VmProgram,
  type VmRingBuf,
} from "../src/vm/index.ts";
import type { RandomProgram } from "./vm-random-programs.ts";

/** The map fds a random program's lddw instructions name (its maps, in order). */
export const FDS = [101, 102, 103, 104];

/** Bytes as hex, "-" for none. */
export const hex = (b: Uint8Array | undefined): string =>
  b ? Buffer.from(b).toString("hex") : "-";

/** What one run in one engine did, as comparable text. */
export function outcome(
  p: RandomProgram,
  program: Uint8Array | Instruction[],
  jit: "never" | "always",
  budget: number | undefined,
  jitTarget: "js" | "wasm" = "js",
): { text: string; executed: number; engine: string; reason: string } {
  const maps: VmMap[] = p.maps.map((m) => {
    const vm = createVmMap(m.spec);
    if (vm instanceof VmArrayMap || vm instanceof VmHashMap)
      for (const [k, v] of m.contents) vm.update(k, v);
    return vm;
  });
  const byFd = new Map(FDS.map((fd, i) => [fd, maps[i]!]));
  let prog: VmProgram;
  try {
    prog = new VmProgram(program, {
      type: p.type,
      resolveMap: (_pseudo, imm) => byFd.get(imm),
      jit,
      jitTarget,
      seed: 7,
      clock: () => 1_000_000n,
      ...(budget !== undefined && { budget }),
    });
  } catch (e) {
    return { text: `build: ${(e as Error).message}`, executed: 0, engine: "none", reason: "" };
  }
  // "interpreter", or "jit js" / "jit wasm": the target that compiled it.
  const engine = prog.engine === "jit" ? `jit ${prog.jitEngine}` : prog.engine;
  const reason = prog.jitEngineReason ?? "";
  const lines: string[] = [];
  let executed = 0;
  try {
    const r = prog.run({ data: p.data });
    executed = r.instructions;
    lines.push(
      `retval ${r.retval} r0 ${r.r0} insns ${r.instructions}`,
      `data ${hex(r.dataOut)}`,
      `ctx ${hex(r.ctxOut)}`,
      `printk ${r.printk.join("|")}`,
    );
  } catch (e) {
    if (!(e instanceof VmError)) throw e;
    lines.push(`error pc ${e.pc}: ${e.message}`);
  }
  // The registers every engine leaves in the machine (the shared register file).
  const R = (prog as unknown as { machine: { R: Int32Array } }).machine.R;
  lines.push(`regs ${[...R].join(",")}`);
  for (let i = 0; i < 3; i++)
    lines.push(
      `map ${i}: ${[...maps[i]!.entries()]
        .map(([k, v]) => `${hex(k)}=${hex(v)}`)
        .sort()
        .join(" ")}`,
    );
  lines.push(`ring ${[...(maps[3] as VmRingBuf).drain()].map((r) => hex(r.data)).join(" ")}`);
  return { text: lines.join("\n"), executed, engine, reason };
}

/** One instruction's offset or immediate changed (bytes 2..7 of a random slot). */
export function mutate(insns: Instruction[], rand: () => number): Uint8Array {
  const bytes = encodeProgram(insns).slice();
  const slot = rand() % (bytes.length / 8);
  const at = slot * 8 + 2 + (rand() % 6);
  bytes[at] = rand() & 0xff;
  return bytes;
}
