/**
 * How a compiled module calls out to JavaScript (slow memory accesses, helpers,
 * atomics, ld_abs/ld_ind, map windows and hash lookups): through a table of wasm
 * functions, not through imported functions.
 *
 * Why: V8 compiles a wrapper for every imported JavaScript function of every module
 * it compiles and instantiates (Node 20: ~0.16 ms in `new WebAssembly.Module` and
 * ~0.13 ms in `new WebAssembly.Instance` for a module importing four, against ~0.07 and
 * ~0.03 ms for one importing a memory and a table), which was a third of the wasm
 * target's compile time for a program of 1,000 instructions. So the JavaScript
 * functions are imported once per realm, by a small module whose exports (wasm
 * functions: no wrapper when another module calls them) fill a table; a program's
 * module imports a table and reaches them with `call_indirect` at fixed slots
 * ({@link CALL}). Each instance gets a table of its own: V8 keeps every instance that
 * imports a table alive as long as the table (Node 20), so one table shared by all
 * would keep every program's arena.
 *
 * The JavaScript functions answer for whichever program is running: a run installs
 * its {@link Callouts} with {@link enterCallouts} and puts the previous ones back with
 * {@link leaveCallouts} (runs nest when a helper runs another program).
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { WasmApi, WasmTable } from "./compile-wasm.ts";
import { Code, I32, ModuleBuilder, Op } from "./encode.ts";

/** The table's slots. The first four take (slot or pc) -> i32, the others (i32, i32) -> i32. */
export const CALL = {
  /** A load or store the module's bounds table did not answer: (pc). */
  slow: 0,
  /** A helper call: (pc). */
  helper: 1,
  /** An atomic the module does not run in place: (pc). */
  atomic: 2,
  /** ld_abs/ld_ind: (pc) -> 1 with r0 in the arena, 0 out of the packet. */
  ldPacket: 3,
  /** A window on a map value: (region id, offset) -> window id + 1. */
  window: 4,
  /** A hash map lookup: (region id, key's frame offset) -> value offset or -1. */
  hashLookup: 5,
} as const;

/** Slots whose functions take two arguments. */
export const CALL_PAIRS_FROM = CALL.window;

/** Number of slots. */
export const CALL_SLOTS = 6;

/** What the running program answers for its module's call-outs (see {@link CALL}). */
export interface Callouts {
  slow(pc: number): void;
  helper(pc: number): void;
  atomic(pc: number): void;
  ldPacket(pc: number): number;
  window(rid: number, at: number): number;
  hashLookup(rid: number, ko: number): number;
}

let current: Callouts | undefined;
/** The realm's trampolines (the small module's exports), built on first use. */
let shared: { api: WasmApi; exports: Record<string, unknown> } | undefined;

function running(): Callouts {
  if (current === undefined) throw new Error("wasm JIT: a call-out with no program running");
  return current;
}

/** A call table for one instance (see the module's notes). */
export function callTable(api: WasmApi): WasmTable {
  const exports = shared?.api === api ? shared.exports : trampolines(api);
  const table = new api.Table({ element: "anyfunc", initial: CALL_SLOTS });
  for (const [name, slot] of Object.entries(CALL)) table.set(slot, exports[name]);
  return table;
}

function trampolines(api: WasmApi): Record<string, unknown> {
  const mb = new ModuleBuilder();
  const one = mb.type([I32], [I32]);
  const two = mb.type([I32, I32], [I32]);
  const names = Object.keys(CALL) as (keyof typeof CALL)[];
  for (const name of names) mb.importFunc("js", name, CALL[name] >= CALL_PAIRS_FROM ? two : one);
  for (const name of names) {
    const i = CALL[name];
    const body = new Code(16).local(Op.local_get, 0);
    if (i >= CALL_PAIRS_FROM) body.local(Op.local_get, 1);
    mb.export(name, mb.func(i >= CALL_PAIRS_FROM ? two : one, [], body.call(i)));
  }
  // Methods return undefined where the module drops the answer: wasm reads it as 0.
  const js = {
    slow: (pc: number) => running().slow(pc),
    helper: (pc: number) => running().helper(pc),
    atomic: (pc: number) => running().atomic(pc),
    ldPacket: (pc: number) => running().ldPacket(pc),
    window: (rid: number, at: number) => running().window(rid, at),
    hashLookup: (rid: number, ko: number) => running().hashLookup(rid, ko),
  };
  const exports = new api.Instance(new api.Module(mb.build()), { js }).exports;
  shared = { api, exports };
  return exports;
}

/** Makes `c` answer the call-outs; returns the ones it replaces, for {@link leaveCallouts}. */
export function enterCallouts(c: Callouts): Callouts | undefined {
  const prev = current;
  current = c;
  return prev;
}

/** Puts back the call-outs {@link enterCallouts} replaced. */
export function leaveCallouts(prev: Callouts | undefined): void {
  current = prev;
}
