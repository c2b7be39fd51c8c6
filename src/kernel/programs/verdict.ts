/**
 * The kernel's verdict on a {@link VerifierCase}: its maps created, the `lddw` map
 * references patched with their fds, its minimal BTF loaded, the program loaded with
 * BPF_PROG_LOAD, and everything closed again. This is the oracle tsbpf's own verifier
 * is compared with (issue 11).
 * @module
 */

import { encodeTypes } from "../../btf/index.ts";
import type { ProgramSpec } from "../../spec/program-spec.ts";
import { INSN_SIZE, LogLevel } from "../../uapi/index.ts";
import {
  caseBtf,
  PSEUDO_MAP_FD,
  PSEUDO_MAP_VALUE,
  type VerifierCase,
} from "../../verifier/case.ts";
import { KernelBTF } from "../btf/kernel-btf.ts";
import { createMapFd } from "../maps/map-create.ts";
import { type Fd, SyscallError } from "../sys/index.ts";
import { loadProgramFd } from "./program-load.ts";
import { VerifierError } from "./verifier-error.ts";
import { kernelErrorLine, type VerifierStats, verifierStats } from "./verifier-log.ts";

/** Options of {@link kernelVerdict}. */
export interface KernelVerdictOptions {
  /**
   * Verifier log level: 1 (the default: the path to a rejection, and the summary), 2
   * (every instruction with its state), with 4 (BPF_LOG_STATS, which adds the
   * verification time) or'ed in. 0 asks for no log: a rejection is then loaded once
   * more at level 1 for its reason.
   */
  readonly logLevel?: number;
  /** The most the log buffer may grow to (default: the kernel's cap). */
  readonly maxLogSize?: number;
}

/** What the kernel said about a case. */
export interface KernelVerdict {
  /** True when BPF_PROG_LOAD gave a program. */
  readonly accepted: boolean;
  /** The errno of a rejection (EACCES for most, EINVAL for malformed programs). */
  readonly errno?: number;
  /**
   * The verifier's message for the rejection (see {@link kernelErrorLine}), e.g.
   * `R0 !read_ok`; absent when accepted, or when the kernel gave no log.
   */
  readonly errorLine?: string;
  /** All lines of the message (see {@link kernelErrorLine}); `errorLine` is the last. */
  readonly errorLines?: readonly string[];
  /** Index of the instruction the message is about, when the log names one. */
  readonly insn?: number;
  /** The whole verifier log ("" when none was asked for and the program loaded). */
  readonly log: string;
  /** The summary's figures, when the log has them. */
  readonly stats?: VerifierStats;
}

/**
 * Loads `c` into the kernel and returns its verdict. Maps, BTF and the program are
 * closed before it returns, whatever happens.
 *
 * @throws MapSpecError or SyscallError when a map of the case cannot be created, or
 * BTFLoadError when its BTF is refused: the case cannot be judged. NotSupportedError
 * when the kernel refuses the program type itself (EPERM).
 * @example
 * ```ts
 * const v = kernelVerdict(parseCase(text));
 * if (!v.accepted) console.log(`${v.insn}: ${v.errorLine}`);
 * ```
 */
export function kernelVerdict(c: VerifierCase, opts: KernelVerdictOptions = {}): KernelVerdict {
  const logLevel = opts.logLevel ?? LogLevel.LEVEL1;
  const owned: { close(): void }[] = [];
  try {
    const btf = caseBtf(c);
    const btfBytes = btf ? encodeTypes(btf.types) : undefined;
    const kbtf = btfBytes
      ? KernelBTF.load(btfBytes, { what: `BTF of case "${c.name}"` })
      : undefined;
    if (kbtf) owned.push(kbtf);
    const fds: Fd[] = c.maps.map((m, i) => {
      const ids = btf?.mapTypeIds[i];
      const spec = ids ? { ...m.spec, btfKeyTypeId: ids.key, btfValueTypeId: ids.value } : m.spec;
      const fd = createMapFd(spec, kbtf && ids ? { btfFd: kbtf.fd } : {});
      owned.push(fd);
      return fd;
    });
    const spec: ProgramSpec = {
      name: c.name,
      type: c.progType,
      ...(c.expectedAttachType !== undefined ? { expectedAttachType: c.expectedAttachType } : {}),
      license: c.license,
      instructions: patchMapFds(c.insns, fds),
      flags: c.progFlags,
      ...(btf?.funcInfo && btfBytes
        ? {
            btf: {
              btf: btfBytes,
              funcInfo: btf.funcInfo,
              funcInfoRecordSize: btf.funcInfoRecordSize,
            },
          }
        : {}),
    };
    try {
      const loaded = loadProgramFd(spec, {
        logLevel,
        ...(opts.maxLogSize !== undefined ? { maxLogSize: opts.maxLogSize } : {}),
        ...(kbtf ? { btfFd: kbtf.fd } : {}),
      });
      loaded.fd.close();
      const log = loaded.log ?? "";
      const stats = verifierStats(log);
      return { accepted: true, log, ...(stats ? { stats } : {}) };
    } catch (e) {
      if (e instanceof VerifierError) return rejected(e.errno, e.log);
      // A refusal without a log (EINVAL for a malformed attribute, E2BIG): still the
      // kernel's verdict. NotSupportedError (EPERM) is not about the program.
      if (e instanceof SyscallError && e.name === "SyscallError") return rejected(e.errno, "");
      throw e;
    }
  } finally {
    for (const o of owned.reverse()) o.close();
  }
}

function rejected(errno: number, log: string): KernelVerdict {
  const line = kernelErrorLine(log);
  const stats = verifierStats(log);
  return {
    accepted: false,
    errno,
    ...(line.message !== undefined ? { errorLine: line.message, errorLines: line.lines } : {}),
    ...(line.insn !== undefined ? { insn: line.insn } : {}),
    log,
    ...(stats ? { stats } : {}),
  };
}

/**
 * A copy of `insns` where each `lddw` map reference (src_reg 1 or 2) holds the fd of the
 * map its imm indexes.
 */
export function patchMapFds(insns: Uint8Array, fds: readonly Fd[]): Uint8Array {
  const out = insns.slice();
  const view = new DataView(out.buffer);
  const count = out.length / INSN_SIZE;
  for (let i = 0; i < count; i++) {
    const at = i * INSN_SIZE;
    if (view.getUint8(at) !== 0x18) continue;
    const src = view.getUint8(at + 1) >> 4;
    if (src === PSEUDO_MAP_FD || src === PSEUDO_MAP_VALUE) {
      const fd = fds[view.getUint32(at + 4, true)];
      if (fd) view.setInt32(at + 4, fd.value, true);
    }
    i++;
  }
  return out;
}
