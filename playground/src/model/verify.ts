/**
 * "Verify": tsbpf's verifier on a case, with the state at each instruction recorded,
 * summarised for the page: the verdict line exactly as `tsbpf vm verify` prints it, the
 * kernel's error lines, and the instructions on the failing path.
 *
 * Pure: no DOM, no `node:` imports.
 * @module
 */
import {
  type InsnState,
  type KernelWording,
  type VerifierCase,
  type VerifyResult,
  verdictLine,
  verifyCase,
} from "../../../src/verifier/index.ts";

/** A verdict as the page shows it. */
export interface Verdict {
  readonly accepted: boolean;
  /** `verified`, or `insn 7: R0 invalid mem access 'map_value_or_null'`: the CLI's line. */
  readonly line: string;
  /** The kernel's error line alone, and its instruction (a rejection). */
  readonly error?: string;
  readonly insn?: number;
  /** Every line of the kernel's message (some rejections have more than one). */
  readonly lines: readonly string[];
  /** Slots on the path that reached the error, in walk order (a rejection). */
  readonly path: readonly number[];
  /** Milliseconds the verifier took (states recorded). */
  readonly ms: number;
  readonly result: VerifyResult;
}

/** Verifies `c` as the CLI does (`kernel` words the error line; default 6.18), recording states. */
export function verifyProgram(c: VerifierCase, kernel?: KernelWording): Verdict {
  const t0 = performance.now();
  const result = verifyCase(c, { states: true, ...(kernel ? { kernel } : {}) });
  const ms = performance.now() - t0;
  const e = result.error;
  return {
    accepted: result.accepted,
    line: verdictLine({
      accepted: result.accepted,
      ...(e && { errorLine: e.message, insn: e.insn }),
    }),
    ...(e && { error: e.message }),
    ...(e?.insn !== undefined && { insn: e.insn }),
    lines: e?.lines ?? [],
    path: (result.states?.path ?? []).map((s) => s.insn),
    ms,
    result,
  };
}

/**
 * The states to show at slot `pc`: on a rejection, the failing path's state there when
 * the path passes it (the one that matters), then the others the walk recorded.
 */
export function statesAt(v: Verdict, pc: number): readonly InsnState[] {
  const all = v.result.states?.byInsn[pc] ?? [];
  const onPath = (v.result.states?.path ?? []).filter((s) => s.insn === pc);
  if (onPath.length === 0) return all;
  const last = onPath[onPath.length - 1] as InsnState;
  return [last, ...all.filter((s) => s !== last)];
}
