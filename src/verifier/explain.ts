/**
 * `explain`: the verifier's reasoning told for a learner. Each instruction beside what
 * the verifier knows of the registers it uses (before it, and after it when it changes
 * them); for a rejection, only the path that reached the error, the branches taken on
 * the way, and where the offending register got the value or bounds that failed (its
 * def-site: the instruction that last set it, or the branch that narrowed it). The
 * kernel's log holds the same facts, buried among every path it walked.
 * @module
 */
import type { Instruction } from "../isa/index.ts";
import { formatInsn, touchedRegs } from "./log.ts";
import { jumpTarget, toSlots } from "./program.ts";
import type { InsnState, RegisterState, StackSlotState } from "./states.ts";
import { type VerifyOptions, type VerifyResult, verify } from "./verifier.ts";

/** Options of {@link formatExplanation}. */
export interface ExplainOptions {
  /** The most distinct states shown per instruction of an accepted program (default 3). */
  readonly maxStates?: number;
}

/**
 * Verifies `insns` while recording states, and explains the verdict in text.
 *
 * @example
 * ```ts
 * console.log(explain(assemble("r0 = *(u32 *)(r1 +0)\nexit"), { progType: ProgType.XDP }).text);
 * ```
 */
export function explain(
  insns: readonly Instruction[],
  opts: VerifyOptions,
  explainOpts: ExplainOptions = {},
): { readonly result: VerifyResult; readonly text: string } {
  const result = verify(insns, { ...opts, states: opts.states ?? true });
  return { result, text: formatExplanation(insns, result, explainOpts) };
}

const PAD = 34;

/** The explanation of a result that was verified with `states` (see {@link explain}). */
export function formatExplanation(
  insns: readonly Instruction[],
  result: VerifyResult,
  opts: ExplainOptions = {},
): string {
  const slots = toSlots(insns);
  const out: string[] = [];
  const text = (pc: number) => {
    const i = slots[pc];
    return i ? formatInsn(i, pc).replace(/^\([0-9a-f]{2}\) /, "") : "?";
  };
  const states = result.states;
  if (result.accepted) {
    out.push(
      `Verdict: accepted (${result.stats.processed} instructions walked over every path, ${slots.filter(Boolean).length} in the program).`,
    );
    if (!states) return out.join("\n");
    out.push(
      "",
      "Each instruction, with the registers and stack it uses as the verifier knows them:",
    );
    const max = opts.maxStates ?? 3;
    for (let pc = 0; pc < slots.length; pc++) {
      if (!slots[pc]) continue;
      const seen = states.byInsn[pc] ?? [];
      if (seen.length === 0) {
        out.push(`${lineNo(pc)}${text(pc).padEnd(PAD)} (never reached: dead code)`);
        continue;
      }
      const distinct = [...new Set(seen.map((s) => operands(slots[pc] as Instruction, s)))];
      distinct.slice(0, max).forEach((d, i) => {
        out.push(`${i === 0 ? lineNo(pc) + text(pc).padEnd(PAD) : " ".repeat(7 + PAD)} ${d}`);
      });
      if (distinct.length > max)
        out.push(
          `${" ".repeat(7 + PAD)} (and ${distinct.length - max} more states on other paths)`,
        );
    }
    if (states.truncated)
      out.push("", "(some states were left out: the program has too many paths)");
    return out.join("\n");
  }
  const err = result.error;
  out.push(
    `Verdict: rejected${err?.insn !== undefined ? ` at instruction ${err.insn}` : ""}: ${err?.message ?? "?"}`,
  );
  for (const l of err?.lines.slice(1) ?? []) out.push(`  (${l})`);
  const path = states?.path ?? [];
  if (path.length === 0) {
    out.push(
      "",
      "The program was refused before any path was walked (its structure, not its values).",
    );
    return out.join("\n");
  }
  // Branches on the failing path.
  const branches: string[] = [];
  for (let k = 0; k + 1 < path.length; k++) {
    const here = path[k] as InsnState;
    const next = path[k + 1] as InsnState;
    const insn = slots[here.insn];
    if (insn?.kind !== "jump") continue;
    const target = jumpTarget(insn, here.insn);
    branches.push(
      `${lineNo(here.insn)}${text(here.insn).padEnd(PAD)} ${next.insn === target && target !== here.insn + 1 ? `jumped to ${target}` : `fell through to ${next.insn}`}`,
    );
  }
  out.push("");
  if (branches.length) {
    out.push(
      `The path that reaches the error (${path.length} instructions) took these branches:`,
      ...branches,
    );
  } else {
    out.push(
      `The path that reaches the error runs ${path.length} instructions with no branch on the way.`,
    );
  }
  out.push(
    "",
    "Each instruction of that path, with the registers and stack it uses (before -> after):",
  );
  for (let k = 0; k < path.length; k++) {
    const s = path[k] as InsnState;
    const insn = slots[s.insn];
    if (!insn) continue;
    const last = k === path.length - 1;
    out.push(
      `${last ? ">" : " "}${lineNo(s.insn).slice(1)}${text(s.insn).padEnd(PAD)} ${operands(insn, s, last ? undefined : path[k + 1])}`,
    );
  }
  // Why: the offending register and where it came from.
  const why = offendingRegister(err?.message ?? "");
  const at = path[path.length - 1] as InsnState;
  const reg = why === undefined ? undefined : findReg(at, why);
  if (reg) {
    out.push("", `Why: R${reg.regno} holds ${reg.text} at instruction ${at.insn}:`);
    out.push(`  ${describe(reg)}.`);
    if (reg.definedAt < 0) {
      out.push(`  It has held that since the program (or function) started.`);
    } else {
      const def = slots[reg.definedAt];
      const how =
        def?.kind === "jump"
          ? "was narrowed by the branch at"
          : def?.kind === "call"
            ? "was set by the call at"
            : "was last set by instruction";
      out.push(`  R${reg.regno} ${how} ${reg.definedAt}: ${text(reg.definedAt)}`);
      // The state of the def instruction's operands, on this path.
      const k = lastIndexOf(path, reg.definedAt);
      if (k >= 0 && def) {
        const uses = operands(def, path[k] as InsnState, path[k + 1]);
        if (uses) out.push(`  there: ${uses}`);
        const src = sourceRegister(def);
        const srcReg = src === undefined ? undefined : findReg(path[k] as InsnState, src);
        if (srcReg && srcReg.definedAt >= 0 && src !== reg.regno)
          out.push(`  and R${src} came from ${srcReg.definedAt}: ${text(srcReg.definedAt)}`);
      }
    }
  }
  return out.join("\n");
}

const lineNo = (pc: number) => `${String(pc).padStart(5)}: `;

function lastIndexOf(path: readonly InsnState[], pc: number): number {
  for (let k = path.length - 1; k >= 0; k--) if ((path[k] as InsnState).insn === pc) return k;
  return -1;
}

/** The register a rejection names first (`R7 invalid mem access`, `R0 !read_ok`, ...). */
export function offendingRegister(message: string): number | undefined {
  const m = /\bR(\d+)\b/.exec(message);
  return m ? Number(m[1]) : undefined;
}

function findReg(s: InsnState, regno: number): RegisterState | undefined {
  const f = s.frames[s.frames.length - 1];
  return f?.registers.find((r) => r.regno === regno);
}

/** The register an instruction takes its value from (the value it passes on). */
function sourceRegister(insn: Instruction): number | undefined {
  if (insn.kind === "alu" && insn.source === "reg") return insn.src;
  if (insn.kind === "load") return insn.src;
  return undefined;
}

function slotAt(s: InsnState, spi: number): StackSlotState | undefined {
  const f = s.frames[s.frames.length - 1];
  return f?.stack.find((x) => x.offset === -8 * (spi + 1));
}

/** `r2=pkt(r=0) -> pkt(off=48,r=0)  r1=pkt_end()` for the registers an instruction uses. */
function operands(insn: Instruction, before: InsnState, after?: InsnState): string {
  const mask =
    touchedRegs(insn) | (insn.kind === "call" ? 0b111110 : 0) | (insn.kind === "exit" ? 1 : 0);
  const parts: string[] = [];
  for (let r = 0; r <= 10; r++) {
    if (!((mask >> r) & 1)) continue;
    const b = findReg(before, r);
    const a = after && after.frames.length === before.frames.length ? findReg(after, r) : undefined;
    if (!b && !a && after) continue;
    let p = `r${r}=${b ? b.text : "(not set)"}`;
    if (
      after &&
      after.frames.length === before.frames.length &&
      (a?.text ?? "") !== (b?.text ?? "")
    )
      p += ` -> ${a ? a.text : "(not set)"}`;
    parts.push(p);
  }
  // A stack slot the instruction reads or writes through r10.
  const base =
    insn.kind === "load"
      ? insn.src
      : insn.kind === "store" || insn.kind === "atomic"
        ? insn.dst
        : -1;
  if (base >= 0 && "off" in insn) {
    const p = findReg(before, base);
    if (p?.base === "stack" && p.bounds.tnum.mask === 0n) {
      const addr = p.off + Number(BigInt.asIntN(64, p.bounds.tnum.value)) + insn.off;
      if (addr < 0 && addr >= -512) {
        const spi = Math.floor((-addr - 1) / 8);
        const b = slotAt(before, spi);
        const a = after ? slotAt(after, spi) : undefined;
        let t = `fp${-8 * (spi + 1)}=${b?.text ?? "(empty)"}`;
        if (after && a?.text !== b?.text) t += ` -> ${a?.text ?? "(empty)"}`;
        parts.push(t);
      }
    }
  }
  if (after && insn.kind === "call" && after.frames.length > before.frames.length)
    parts.push(`-> enters frame ${after.frames.length - 1}`);
  return parts.join("  ");
}

const U64_MAX = (1n << 64n) - 1n;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

/** A value's range in words: `between 4 and 35`, `any value`. */
function range(b: RegisterState["bounds"]): string {
  if (b.umin === b.umax) return `exactly ${b.umin}`;
  if (b.umin === 0n && b.umax === U64_MAX && b.smin === S64_MIN && b.smax === S64_MAX)
    return "any 64-bit value";
  if (b.smin < 0n && b.smax >= 0n) return `between ${b.smin} and ${b.smax} (signed)`;
  return `between ${b.umin} and ${b.umax}`;
}

/** What a register holds, in words a learner reads. */
export function describe(r: RegisterState): string {
  const variable = r.bounds.tnum.mask !== 0n;
  const at = (what: string) =>
    `${what} ${r.off ? `${r.off} bytes past its start` : "at its start"}${variable ? `, plus a variable offset ${range(r.bounds)}` : ""}`;
  switch (r.base) {
    case "scalar":
      return r.constant !== undefined
        ? `a number known exactly: ${BigInt.asIntN(64, r.constant)}`
        : `a number the verifier only knows is ${range(r.bounds)}`;
    case "pkt":
    case "pkt_meta": {
      const proven =
        (r.range ?? 0) > 0
          ? `${r.range} bytes from it are proven to be in the packet`
          : r.range === -1 || r.range === -2
            ? "it is known to be at or past the packet's end"
            : "no byte from it is proven to be in the packet yet (compare it with pkt_end first)";
      return `${at("a pointer into the packet")}; ${proven}`;
    }
    case "map_value":
      return r.type.endsWith("_or_null")
        ? "a map lookup's result, which may be NULL: compare it with 0 before using it"
        : `${at(`a pointer into a value of map ${r.map?.name ?? "?"}`)} (values are ${r.map?.valueSize} bytes)`;
    case "stack":
      return variable ? at("a pointer into the stack") : `a pointer to the stack at fp${r.off}`;
    case "ctx":
      return at("the program's context");
    case "not_init":
      return "nothing: the register was never set";
    default:
      return r.type.endsWith("_or_null")
        ? `a ${r.type} pointer, which may be NULL: compare it with 0 before using it`
        : at(`a ${r.type} pointer`);
  }
}
