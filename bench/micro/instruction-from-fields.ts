/**
 * instructionFromFields per call, for valid instructions of four kinds and for invalid
 * ones (which throw). Run by hand: `node --import tsx bench/micro/instruction-from-fields.ts`.
 *
 * Before 2026-12-06 each valid result was built as `{ ...base, kind, ... }` and took
 * 1-7 µs (V8's slow path for that spread); written out as literals, 0.07-0.12 µs. An
 * invalid instruction costs an Error (its stack trace), about 6 µs.
 */
import { instructionFromFields } from "../../src/isa/instruction.ts";

const valid = [
  ["mov64 imm", { code: 0xb7, dst: 0, src: 0, off: 0, imm: 2 }],
  ["ldxw", { code: 0x61, dst: 1, src: 2, off: 4, imm: 0 }],
  ["exit", { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }],
  ["lddw", { code: 0x18, dst: 1, src: 0, off: 0, imm: 5, imm2: 0 }],
] as const;
const invalid = [
  ["mov64 with src", { code: 0xb7, dst: 0, src: 3, off: 0, imm: 2 }],
  ["r11", { code: 0x07, dst: 11, src: 0, off: 0, imm: 2 }],
  ["opcode 0xff", { code: 0xff, dst: 0, src: 0, off: 0, imm: 0 }],
] as const;

function perCall(f: () => void, n: number): string {
  for (let i = 0; i < 10_000; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return `${(((performance.now() - t0) / n) * 1e3).toFixed(3)} µs`;
}

for (const [name, fields] of valid)
  console.log(`${name.padEnd(16)} ${perCall(() => instructionFromFields(fields), 1_000_000)}`);
for (const [name, fields] of invalid)
  console.log(
    `${name.padEnd(16)} ${perCall(() => {
      try {
        instructionFromFields(fields);
      } catch {
        // the cost measured includes the throw
      }
    }, 200_000)}`,
  );
