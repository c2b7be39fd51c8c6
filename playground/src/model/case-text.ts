/**
 * A verifier case as editor text, in bpftool's or LLVM's syntax: `.map` lines, then one
 * instruction a line, which assembles back to the same instructions.
 *
 * Pure: no DOM, no `node:` imports.
 * @module
 */
import {
  decodeProgram,
  formatKernel,
  formatLlvm,
  type Instruction,
} from "../../../src/isa/index.ts";
import type { VerifierCase } from "../../../src/verifier/index.ts";
import { mapLines } from "./source.ts";

/** Which assembly syntax the editor shows. */
export type Syntax = "bpftool" | "llvm";

/**
 * An instruction's text in `syntax`, without bpftool's `(op)` prefix. A map reference
 * stays in bpftool's form in both: LLVM's `ld_pseudo r1, 2, 0` has no place for the
 * offset into a map value (`map[id:0][0]+4`), and the text must assemble back.
 */
export function formatInstruction(insn: Instruction, syntax: Syntax): string {
  if (syntax === "llvm" && !(insn.kind === "lddw" && insn.src !== 0)) return formatLlvm(insn);
  return formatKernel(insn).replace(/^\([0-9a-f]{2}\) /, "");
}

/**
 * A case as editor text: its maps as `.map` lines, then one instruction a line. The
 * text assembles back to the same instructions (map references stay indexes).
 */
export function caseText(c: VerifierCase, syntax: Syntax): string {
  const insns = decodeProgram(c.insns);
  return [
    ...mapLines(c.maps.map((m) => m.spec)),
    ...insns.map((i) => formatInstruction(i, syntax)),
  ].join("\n");
}

/** The editor line (1-based) of each slot of {@link caseText}'s text. */
export function caseLines(c: VerifierCase): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  let line = c.maps.length + 1;
  for (const i of decodeProgram(c.insns)) {
    out.push(line++);
    if (i.bytes === 16) out.push(undefined);
  }
  return out;
}
