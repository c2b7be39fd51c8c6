/**
 * `ProgramSpec`: a BPF program as plain data — its type, licence and instruction
 * bytes — before any kernel or VM has seen it. Reading an ELF object always gives the
 * same specs; loading one (`Program.load` in src/kernel, the VM's loader) is where a
 * kernel's answer comes in.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

import { type AttachType, INSN_SIZE, type ProgType, progTypeName } from "../uapi/index.ts";

/**
 * The most instructions a program may have (`BPF_COMPLEXITY_LIMIT_INSNS`, the limit
 * for privileged loaders since Linux 5.2; unprivileged loaders get 4096).
 */
export const MAX_PROGRAM_INSNS = 1_000_000;

/**
 * BTF that describes a program's functions and source lines (`.BTF.ext` func_info and
 * line_info, rebased to the program). Filled in by the ELF loader; a program loads
 * without it, the verifier then names no source lines.
 */
export interface ProgramBtf {
  /** The raw BTF blob (`.BTF` section) that func_info and line_info refer to. */
  readonly btf: Uint8Array;
  /** `struct bpf_func_info` records, `funcInfoRecordSize` bytes each. */
  readonly funcInfo?: Uint8Array;
  /** Size of one func_info record (8 on current kernels). */
  readonly funcInfoRecordSize?: number;
  /** `struct bpf_line_info` records, `lineInfoRecordSize` bytes each. */
  readonly lineInfo?: Uint8Array;
  /** Size of one line_info record (16 on current kernels). */
  readonly lineInfoRecordSize?: number;
}

/**
 * A program before it is loaded. Every field is plain data, so specs can be built,
 * compared and serialised without a kernel.
 *
 * @example
 * ```ts
 * const spec: ProgramSpec = {
 *   name: "ret2",
 *   type: ProgType.SOCKET_FILTER,
 *   license: "GPL",
 *   instructions: encodeProgram(assemble("r0 = 2\nexit")),
 * };
 * validateProgramSpec(spec);
 * ```
 */
export interface ProgramSpec {
  /**
   * The program's name (the ELF symbol). The kernel keeps at most 15 characters of
   * letters, digits, `_` and `.`; loaders shorten and sanitise it, the spec keeps it whole.
   */
  readonly name: string;
  /** `enum bpf_prog_type`. */
  readonly type: ProgType;
  /** `expected_attach_type`, for the program types that need one (cgroup hooks, tracing...). */
  readonly expectedAttachType?: AttachType;
  /**
   * What the program attaches to, from its ELF section name: a tracepoint
   * (`"syscalls/sys_enter_openat"`), a kernel function for fentry/kprobe, a cgroup hook.
   */
  readonly attachTo?: string;
  /** The licence string; "GPL" (or a GPL-compatible one) unlocks GPL-only helpers. */
  readonly license: string;
  /** Raw instructions: 8 bytes per `struct bpf_insn`, little-endian on this host. */
  readonly instructions: Uint8Array;
  /** `kern_version` (`KERNEL_VERSION(a,b,c)`); only kprobe programs on kernels < 5.0 check it. */
  readonly kernelVersion?: number;
  /** `prog_flags` (`ProgLoadFlags`: SLEEPABLE, XDP_HAS_FRAGS...). */
  readonly flags?: number;
  /** `attach_btf_id`: the BTF type id of the function a tracing/LSM/ext program attaches to. */
  readonly attachBtfId?: number;
  /** `attach_prog_fd`: for freplace (ext) and fentry on BPF programs, the target program. */
  readonly attachProgFd?: number;
  /** Function and line information, when the object carried `.BTF.ext`. */
  readonly btf?: ProgramBtf;
}

/** A {@link ProgramSpec} failed validation; `problems` lists every reason. */
export class ProgramSpecError extends Error {
  override readonly name: string = "ProgramSpecError";
  /** The program's name as the spec gave it. */
  readonly programName: string;
  /** Each problem, one sentence each. */
  readonly problems: readonly string[];

  constructor(programName: string, problems: readonly string[]) {
    super(`invalid program spec "${programName}": ${problems.join("; ")}`);
    this.programName = programName;
    this.problems = problems;
  }
}

/**
 * Everything wrong with a spec, as sentences; empty when it is valid. Pure checks only:
 * whether the kernel accepts the instructions is for the verifier to say.
 */
export function programSpecProblems(spec: ProgramSpec): string[] {
  const problems: string[] = [];
  if (typeof spec.name !== "string") problems.push("name must be a string");
  if (!Number.isInteger(spec.type) || spec.type < 0 || spec.type > 0xffffffff) {
    problems.push(`program type ${String(spec.type)} is not a 32-bit unsigned integer`);
  } else if (spec.type === 0) {
    problems.push("program type 0 (unspec) cannot be loaded");
  }
  if (
    spec.expectedAttachType !== undefined &&
    (!Number.isInteger(spec.expectedAttachType) || spec.expectedAttachType < 0)
  ) {
    problems.push(`expected attach type ${String(spec.expectedAttachType)} is not a valid number`);
  }
  if (typeof spec.license !== "string" || spec.license.length === 0) {
    problems.push('license must be a non-empty string (e.g. "GPL")');
  } else if (spec.license.includes("\0")) {
    problems.push("license must not contain NUL characters");
  }
  const insns = spec.instructions;
  if (!(insns instanceof Uint8Array)) {
    problems.push("instructions must be a Uint8Array of raw instruction bytes");
  } else if (insns.length === 0) {
    problems.push("the program has no instructions");
  } else if (insns.length % INSN_SIZE !== 0) {
    problems.push(
      `instruction bytes (${insns.length}) are not a multiple of ${INSN_SIZE}: ${insns.length % INSN_SIZE} trailing byte(s)`,
    );
  } else if (insns.length / INSN_SIZE > MAX_PROGRAM_INSNS) {
    problems.push(
      `${insns.length / INSN_SIZE} instructions exceed the kernel's limit of ${MAX_PROGRAM_INSNS}`,
    );
  }
  for (const [key, value] of [
    ["kernelVersion", spec.kernelVersion],
    ["flags", spec.flags],
    ["attachBtfId", spec.attachBtfId],
    ["attachProgFd", spec.attachProgFd],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 0xffffffff)) {
      problems.push(`${key} ${String(value)} is not a 32-bit unsigned integer`);
    }
  }
  const btf = spec.btf;
  if (btf !== undefined) {
    if (!(btf.btf instanceof Uint8Array) || btf.btf.length === 0) {
      problems.push("btf.btf must hold the raw BTF blob");
    }
    for (const [what, data, size] of [
      ["funcInfo", btf.funcInfo, btf.funcInfoRecordSize],
      ["lineInfo", btf.lineInfo, btf.lineInfoRecordSize],
    ] as const) {
      if (data === undefined) continue;
      if (!size || size <= 0) problems.push(`btf.${what} needs a positive record size`);
      else if (data.length % size !== 0) {
        problems.push(
          `btf.${what} (${data.length} bytes) is not a whole number of ${size}-byte records`,
        );
      }
    }
  }
  return problems;
}

/**
 * Throws a {@link ProgramSpecError} naming every problem of `spec`, or returns.
 * @throws ProgramSpecError
 */
export function validateProgramSpec(spec: ProgramSpec): void {
  const problems = programSpecProblems(spec);
  if (problems.length > 0) throw new ProgramSpecError(String(spec.name), problems);
}

/** The number of instructions (8-byte slots; `lddw` counts as two). */
export function instructionCount(spec: ProgramSpec): number {
  return Math.floor(spec.instructions.length / INSN_SIZE);
}

/** A readable label: `socket_filter program "name"` (or the number of an unknown type). */
export function describeProgram(spec: Pick<ProgramSpec, "name" | "type">): string {
  const typeName = progTypeName(spec.type) ?? `type ${spec.type}`;
  return spec.name ? `${typeName} program "${spec.name}"` : `${typeName} program`;
}
