/**
 * The verifier in front of the VM (issue 11): `VirtualMachine.load` judges each program
 * as Linux would before it may run, so a program the kernel refuses is refused here
 * too, with the kernel's error line at its instruction, instead of faulting (or
 * running) later. Programs the verifier cannot judge — types that need an attach
 * target's BTF, global functions with pointer parameters, helpers or contexts it does
 * not model yet — load unverified, and say why.
 *
 * Pure: no `node:` imports.
 * @module
 */
import type { CollectionSpec } from "../spec/collection-spec.ts";
import type { MapSpec } from "../spec/map-spec.ts";
import type { ProgramSpec } from "../spec/program-spec.ts";
import { funcOptions, isGplCompatible, type VerifyStats, verifyBytes } from "../verifier/index.ts";
import { NEEDS_TARGET, programFuncs } from "../verifier/object-cases.ts";
import { VmError } from "./errors.ts";

/** What the verifier said about a program the VM loaded. */
export type VmVerification =
  /** Judged and accepted, with the verifier's statistics. */
  | { readonly verdict: "verified"; readonly stats: VerifyStats }
  /** Not judged (verify: false, or beyond what the verifier models): why. */
  | { readonly verdict: "unverified"; readonly reason: string };

/**
 * A program the verifier rejects, as the kernel would: `line` is the kernel's error
 * line, `pc` its instruction (-1 when the kernel names none), `lines` the whole message.
 */
export class VmVerifierError extends VmError {
  override name = "VmVerifierError";
  constructor(
    /** The program's name. */
    readonly program: string,
    /** The error line (the first of `lines`). */
    readonly line: string,
    /** Every line of the verifier's message. */
    readonly lines: readonly string[],
    insn: number | undefined,
  ) {
    super(
      `program "${program}" rejected by the verifier${insn === undefined ? "" : ` at insn ${insn}`}: ${line} (Linux would refuse it too; load with verify: false to run it anyway)`,
      insn ?? -1,
    );
  }
}

/** The verifier's message when it meets something it does not model. */
const UNMODELLED = /^tsbpf does not model /;

/**
 * Verifies program `ps` of `spec` as linked for the VM (`bytes`: map references as
 * BPF_PSEUDO_MAP_IDX into `maps`, the collection's maps in order).
 * @throws VmVerifierError when the verifier rejects it.
 */
export function verifyForVm(
  spec: CollectionSpec,
  ps: ProgramSpec,
  name: string,
  bytes: Uint8Array,
  maps: readonly MapSpec[],
): VmVerification {
  if (NEEDS_TARGET.has(ps.type))
    return { verdict: "unverified", reason: "the program type needs an attach target's BTF" };
  const { funcs, unexpressible } = programFuncs(spec, ps);
  if (unexpressible) return { verdict: "unverified", reason: unexpressible };
  const r = verifyBytes(bytes, {
    progType: ps.type,
    ...(ps.expectedAttachType !== undefined && { expectedAttachType: ps.expectedAttachType }),
    // A MapSpec is a VerifierMap (inner maps too); its spin lock offset stays unknown.
    maps,
    ...funcOptions(funcs),
    progFlags: ps.flags ?? 0,
    gpl: isGplCompatible(ps.license || "GPL"),
  });
  if (r.accepted) return { verdict: "verified", stats: r.stats };
  const e = r.error as NonNullable<typeof r.error>;
  if (UNMODELLED.test(e.message)) return { verdict: "unverified", reason: e.message };
  throw new VmVerifierError(name, e.message, e.lines, e.insn);
}
