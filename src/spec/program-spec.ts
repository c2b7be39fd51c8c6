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
import type { AttachDescriptor } from "./attach.ts";

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
  /** The ELF section the program came from (its `SEC()` name), when read from an object. */
  readonly section?: string;
  /**
   * Where it attaches, as the ELF loader read it from {@link section} (the only place
   * that parses section names). Hand-built specs may leave it out: attaching then goes
   * by {@link type}, {@link expectedAttachType} and {@link attachTo}.
   */
  readonly attach?: AttachDescriptor;
  /**
   * Instructions that name a map, a kernel symbol or a kfunc, to be filled in when the
   * program is loaded (the ELF loader writes the right `src_reg` and leaves `imm` 0).
   */
  readonly references?: readonly ProgramReference[];
  /** CO-RE relocations still to be resolved against the target kernel's BTF. */
  readonly coreRelocations?: readonly CoreRelocation[];
}

/**
 * An instruction that refers to something only a loader can resolve. `insn` is the
 * instruction's index (8-byte slots) in {@link ProgramSpec.instructions}.
 * - `"map"`: `lddw` with `src_reg = BPF_PSEUDO_MAP_FD`; `imm` := the map's fd.
 * - `"mapValue"`: `lddw` with `src_reg = BPF_PSEUDO_MAP_VALUE`; `imm` := the map's fd,
 *   the second slot's `imm` already holds `offset`.
 * - `"ksym"`: `lddw` with `src_reg = BPF_PSEUDO_BTF_ID`; `imm` := the kernel variable's
 *   BTF id (and the second `imm` the BTF object's fd, 0 for vmlinux).
 * - `"kfunc"`: `call` with `src_reg = BPF_PSEUDO_KFUNC_CALL`; `imm` := the function's BTF id.
 * `map` names a map of the same collection; `name` an extern of the collection. A
 * `weak` extern that the kernel lacks is allowed to stay unresolved (libbpf writes 0).
 */
export type ProgramReference =
  | { readonly kind: "map"; readonly insn: number; readonly map: string }
  | {
      readonly kind: "mapValue";
      readonly insn: number;
      readonly map: string;
      readonly offset: number;
    }
  | { readonly kind: "ksym"; readonly insn: number; readonly name: string; readonly weak: boolean }
  | {
      readonly kind: "kfunc";
      readonly insn: number;
      readonly name: string;
      readonly weak: boolean;
    };

/**
 * One CO-RE relocation (`struct bpf_core_relo`), rebased to the program: `insn` is the
 * index of the instruction to patch, `typeId` the root type in the object's own BTF,
 * `access` the access string ("0:1:2" field path, or an enumerator/type index) and
 * `kind` the `enum bpf_core_relo_kind` value (0 field byte offset ... 12 type matches).
 */
export interface CoreRelocation {
  readonly insn: number;
  readonly typeId: number;
  readonly access: string;
  readonly kind: number;
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
  // An empty license is allowed, as the kernel, libbpf and cilium/ebpf allow it (an
  // object without a "license" section): GPL-only helpers then fail in the verifier,
  // which says so.
  if (typeof spec.license !== "string") {
    problems.push('license must be a string (e.g. "GPL", or "" for none)');
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
