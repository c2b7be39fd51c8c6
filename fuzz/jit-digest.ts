/**
 * `npm run fuzz -- jit-digest [--count N]`: one SHA-256 over the bytes of every wasm
 * module the JIT compiles for the campaign's first N seeds (1,500 by default; and as
 * many again with 16-byte hash keys) and for the bench's programs.
 *
 * What it is for: a JIT campaign (fuzz/jit.ts) takes hours and may span sessions,
 * while the compiler's internals keep changing. Two commits with the same digest
 * compile these programs to the same modules, so a campaign run on one counts for
 * the other as far as the wasm target goes (the JS target and the runtime are judged
 * by `git diff` of src/vm). It prints `modules M bytes B sha256 H`.
 *
 * Pure measuring: it wraps the global `WebAssembly.Module` to see the bytes.
 * @module
 */
import { createHash } from "node:crypto";
import { lookupProgram, VM_PROGRAMS } from "../bench/vm-programs.ts";
import { assemble } from "../src/isa/index.ts";
import { MapType, ProgType } from "../src/uapi/index.ts";
import { createVmMap, VmProgram } from "../src/vm/index.ts";
import { main as campaign } from "./jit.ts";

export async function main(args: readonly string[]): Promise<number> {
  const i = args.indexOf("--count");
  const count = i >= 0 ? Number(args[i + 1]) : 1500;
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`--count must be a positive integer`);
  const hash = createHash("sha256");
  let modules = 0;
  let bytes = 0;
  const W = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => unknown } })
    .WebAssembly;
  const original = W.Module;
  W.Module = new Proxy(original, {
    construct(target, argv) {
      const b = argv[0] as Uint8Array;
      hash.update(b);
      modules++;
      bytes += b.length;
      return new target(b) as object;
    },
  });
  const log = console.log;
  try {
    console.log = () => {};
    await campaign(["--from", "0", "--count", String(count), "--target", "wasm"]);
    await campaign([
      "--from",
      "100000",
      "--count",
      String(count),
      "--target",
      "wasm",
      "--hash-key",
      "16",
    ]);
    for (const p of VM_PROGRAMS) {
      const prog = new VmProgram(assemble(p.text), {
        type: ProgType.XDP,
        jit: "always",
        jitTarget: "wasm",
      });
      prog.run({ data: p.data ?? new Uint8Array(64) });
    }
    for (const [type, keySize] of [
      [MapType.ARRAY, 4],
      [MapType.HASH, 4],
      [MapType.HASH, 16],
      [MapType.LRU_HASH, 4],
    ] as const) {
      const map = createVmMap({ name: "m", type, keySize, valueSize: 8, maxEntries: 64 });
      for (let k = 0; k < 16; k++) {
        const key = new Uint8Array(keySize);
        key[0] = k;
        map.update(key, new Uint8Array(8));
      }
      const prog = new VmProgram(lookupProgram(7, 100, keySize), {
        type: ProgType.XDP,
        jit: "always",
        jitTarget: "wasm",
        resolveMap: (_p, imm) => (imm === 7 ? map : undefined),
      });
      prog.run({ data: new Uint8Array(64) });
    }
  } finally {
    console.log = log;
    W.Module = original;
  }
  console.log(`modules ${modules} bytes ${bytes} sha256 ${hash.digest("hex")}`);
  return 0;
}
