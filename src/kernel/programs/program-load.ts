/**
 * BPF_PROG_LOAD: a {@link ProgramSpec} into the kernel, with the verifier log.
 *
 * The log buffer starts small and grows until the log fits: the kernel answers ENOSPC
 * when it was cut, and since Linux 6.4 says in `log_true_size` how big it needed to be,
 * so one retry suffices; older kernels get x4 steps. A failed load without a log is
 * tried once more with log level 1, as libbpf does, so a rejection always comes with
 * the verifier's reason.
 * @module
 */

import { sanitizeObjectName } from "../../spec/map-spec.ts";
import {
  describeProgram,
  instructionCount,
  type ProgramSpec,
  validateProgramSpec,
} from "../../spec/program-spec.ts";
import {
  attachTypeName,
  BpfCmd,
  bpfAttr,
  Errno,
  ProgType,
  progTypeName,
} from "../../uapi/index.ts";
import { KernelBTF } from "../btf/kernel-btf.ts";
import { missingFromKernel } from "../features/kernel-enum.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import { BpfCall, Fd, MAX_EAGAIN_RETRIES, type OutBuffer, SyscallError } from "../sys/index.ts";
import { runningKernelVersion } from "../system/kernel-version.ts";
import { openModuleBTF, resolveAttachTarget } from "./attach-target.ts";
import { assertSectionSupported } from "./section-support.ts";
import { VerifierError } from "./verifier-error.ts";
import { parseVerifierLog } from "./verifier-log.ts";

/** The first verifier log buffer: 64 KiB. */
export const DEFAULT_LOG_SIZE = 64 * 1024;
/** The kernel's cap on `log_size` (UINT_MAX >> 2 since Linux 5.2; 16 MiB - 1 before). */
export const MAX_LOG_SIZE = 0xffffffff >>> 2;
/** The smallest `log_size` every kernel takes: before Linux 6.4 a smaller one is EINVAL. */
export const MIN_LOG_SIZE = 128;

/** How to load a program. */
export interface LoadOptions {
  /**
   * Verifier log level: 0 (none; a failure still fetches a level-1 log), 1, 2, or with
   * 4 (BPF_LOG_STATS) or'ed in. With a level, a loaded program keeps its log.
   */
  readonly logLevel?: number;
  /**
   * The first log buffer size in bytes (default 64 KiB); it grows as needed. At least
   * 128: kernels before 6.4 refuse a smaller buffer, so a smaller size is raised.
   */
  readonly logSize?: number;
  /**
   * The most the buffer may grow to (default and cap: the kernel's UINT_MAX >> 2; at
   * least 128, as for {@link logSize}).
   */
  readonly maxLogSize?: number;
  /** Extra `prog_flags`, or'ed with the spec's. */
  readonly flags?: number;
  /** `prog_ifindex`: offload to, or bind to, this network device. */
  readonly ifindex?: number;
  /** `attach_btf_obj_fd`: the BTF object (a module's) that `attachBtfId` is in. */
  readonly attachBtfObjFd?: number;
  /** `fd_array`: map and BTF fds the instructions refer to by index. */
  readonly fdArray?: readonly number[];
  /**
   * A BTF object already in the kernel for `prog_btf_fd` (a collection loads its BTF
   * once for every program); without it `spec.btf.btf` is loaded for this call.
   */
  readonly btfFd?: number;
}

/** What a successful load gives. */
export interface LoadedProgram {
  /** The program's descriptor, owned by the caller. */
  readonly fd: Fd;
  /** The verifier log, when a log level was asked for. */
  readonly log: string | undefined;
}

/** One PROG_LOAD: the fd, or the errno and the log of a refusal. */
export interface Attempt {
  readonly fd: number;
  readonly errno: number;
  readonly log: string;
  readonly trueSize: number;
}

const decoder = new TextDecoder();

function readLog(out: OutBuffer): string {
  const end = out.bytes.indexOf(0);
  return decoder.decode(out.bytes.subarray(0, end < 0 ? out.bytes.length : end));
}

/**
 * Loads `spec` and returns the program's fd (and log). Throws:
 * - `ProgramSpecError` for a malformed spec (nothing reaches the kernel);
 * - `Error` when a tracing/LSM spec's `attachTo` names nothing in vmlinux BTF (or, for
 *   fentry/fexit/fmod_ret, in a loaded module's BTF);
 * - {@link VerifierError} when the verifier rejects the program (with its log);
 * - {@link NotSupportedError} when the kernel refuses the program type (EPERM as root),
 *   or the spec's SEC() form needs an attach type this uapi lacks (`fentry.multi`...);
 * - `SyscallError` otherwise, with the errno and what it likely means.
 */
export function loadProgramFd(specIn: ProgramSpec, optsIn: LoadOptions = {}): LoadedProgram {
  let opts = optsIn;
  let spec = specIn;
  validateProgramSpec(spec);
  const label = describeProgram(spec);
  const maxLog = Math.max(MIN_LOG_SIZE, Math.min(opts.maxLogSize ?? MAX_LOG_SIZE, MAX_LOG_SIZE));
  const firstLog = Math.max(MIN_LOG_SIZE, Math.min(opts.logSize ?? DEFAULT_LOG_SIZE, maxLog));
  const wanted = opts.logLevel ?? 0;
  let level = wanted;
  let size = firstLog;

  assertSectionSupported(spec, "loading");
  const target = spec.attachBtfId === undefined ? resolveAttachTarget(spec) : undefined;
  if (target) spec = { ...spec, attachBtfId: target.id };
  // A target in a module's BTF: the kernel finds it through that BTF object's fd.
  const moduleBtf =
    target?.module !== undefined &&
    opts.attachBtfObjFd === undefined &&
    spec.attachProgFd === undefined
      ? openModuleBTF(target.module)
      : undefined;
  if (moduleBtf) opts = { ...opts, attachBtfObjFd: moduleBtf.fd };
  let ownBtf: KernelBTF | undefined;
  try {
    ownBtf =
      spec.btf && opts.btfFd === undefined
        ? KernelBTF.load(spec.btf.btf, { what: `BTF of ${label}` })
        : undefined;
    for (;;) {
      const r = attempt(spec, opts, level, size, opts.btfFd ?? ownBtf?.fd);
      if (r.fd >= 0) return { fd: new Fd(r.fd), log: wanted ? r.log : undefined };
      if (r.errno === Errno.ENOSPC && level !== 0) {
        if (size >= maxLog) {
          throw new VerifierError({ errno: r.errno, log: r.log, program: label, truncated: true });
        }
        size = Math.min(r.trueSize > size ? r.trueSize : size * 4, maxLog);
        continue;
      }
      if ((level & 3) === 0 && r.errno !== Errno.EPERM) {
        // As libbpf does: a rejection without a log (or with statistics only, which
        // carry no reason) is loaded again at level 1 to get the verifier's reason —
        // whatever the errno (EACCES, EINVAL, but also e.g. ENOENT for an unresolved
        // kernel symbol). EPERM is the kernel refusing the program type or the caller:
        // no log explains that.
        level |= 1;
        continue;
      }
      throw programLoadError(spec, label, r);
    }
  } finally {
    ownBtf?.close();
    moduleBtf?.close();
  }
}

function attempt(
  spec: ProgramSpec,
  opts: LoadOptions,
  level: number,
  size: number,
  btfFd: number | undefined,
): Attempt {
  const call = new BpfCall(BpfCmd.PROG_LOAD, bpfAttr.progLoad);
  call
    .u32("prog_type", spec.type)
    .u32("insn_cnt", instructionCount(spec))
    .input("insns", spec.instructions)
    .string("license", spec.license)
    .inlineString("prog_name", sanitizeObjectName(spec.name))
    .u32("prog_flags", ((spec.flags ?? 0) | (opts.flags ?? 0)) >>> 0)
    .u32(
      "kern_version",
      spec.kernelVersion ?? (spec.type === ProgType.KPROBE ? runningKernelVersion() : 0),
    );
  if (spec.expectedAttachType !== undefined) {
    call.u32("expected_attach_type", spec.expectedAttachType);
  }
  if (spec.attachBtfId !== undefined) call.u32("attach_btf_id", spec.attachBtfId);
  if (spec.attachProgFd !== undefined) call.u32("attach_prog_fd", spec.attachProgFd);
  else if (opts.attachBtfObjFd !== undefined) call.u32("attach_btf_obj_fd", opts.attachBtfObjFd);
  if (opts.ifindex !== undefined) call.u32("prog_ifindex", opts.ifindex);
  if (opts.fdArray && opts.fdArray.length > 0) {
    const arr = new Uint8Array(opts.fdArray.length * 4);
    const view = new DataView(arr.buffer);
    opts.fdArray.forEach((fd, i) => {
      view.setInt32(i * 4, fd, true);
    });
    call.input("fd_array", arr);
  }
  const btf = spec.btf;
  if (btf && btfFd !== undefined) {
    call.u32("prog_btf_fd", btfFd);
    if (btf.funcInfo && btf.funcInfoRecordSize) {
      call
        .u32("func_info_rec_size", btf.funcInfoRecordSize)
        .u32("func_info_cnt", btf.funcInfo.length / btf.funcInfoRecordSize)
        .input("func_info", btf.funcInfo);
    }
    if (btf.lineInfo && btf.lineInfoRecordSize) {
      call
        .u32("line_info_rec_size", btf.lineInfoRecordSize)
        .u32("line_info_cnt", btf.lineInfo.length / btf.lineInfoRecordSize)
        .input("line_info", btf.lineInfo);
    }
  }
  let log: OutBuffer | undefined;
  if (level !== 0) {
    log = call.output("log_buf", size);
    call.u32("log_level", level).u32("log_size", size);
  }
  try {
    const fd = call.invoke("program load", { retryEagain: true });
    return { fd, errno: 0, log: log ? readLog(log) : "", trueSize: 0 };
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    return {
      fd: -1,
      errno: e.errno,
      log: log ? readLog(log) : "",
      trueSize: level !== 0 ? call.get("log_true_size") : 0,
    };
  }
}

/**
 * The error for a refused load (exported for its tests). EAGAIN first: the verifier
 * gives up with it when a signal is pending, whatever the program, and its log then
 * ends mid-way, which would read as a rejection at that instruction.
 */
export function programLoadError(spec: ProgramSpec, label: string, r: Attempt): Error {
  if (r.errno === Errno.EAGAIN) {
    return new SyscallError(
      r.errno,
      `program load (${label})`,
      `the verifier was interrupted by a signal ${MAX_EAGAIN_RETRIES + 1} times in a row (a pending signal stops it with EAGAIN, as when a CPU profiler's SIGPROF comes often): nothing says the program is wrong; load it again`,
    );
  }
  const verdict = parseVerifierLog(r.log);
  if (verdict.message !== undefined || verdict.instruction !== undefined) {
    return new VerifierError({ errno: r.errno, log: r.log, program: label });
  }
  const typeName = progTypeName(spec.type);
  const operation = `program load (${label})`;
  switch (r.errno) {
    case Errno.EPERM: {
      const root = process.getuid?.() === 0;
      return new NotSupportedError(
        `loading ${typeName ?? `type ${spec.type}`} programs`,
        root
          ? `the kernel refused ${label} with EPERM although tsbpf runs as root: this kernel (or its security policy) does not allow ${typeName ?? "such"} programs`
          : `the kernel refused ${label} with EPERM: tsbpf is not running as root (loading needs CAP_BPF, and CAP_PERFMON for tracing program types)`,
        r.errno,
      );
    }
    case Errno.E2BIG:
      return new SyscallError(
        r.errno,
        operation,
        `${instructionCount(spec)} instructions: more than this kernel accepts (1,000,000 for privileged loaders, 4096 otherwise)`,
      );
    case Errno.EINVAL: {
      // a type tsbpf knows but the running kernel does not (netfilter before 6.4)
      const attach = spec.expectedAttachType;
      const attachName = attach === undefined ? undefined : attachTypeName(attach);
      const missing =
        (typeName !== undefined
          ? missingFromKernel(
              "prog",
              spec.type,
              `loading ${typeName} programs`,
              r.errno,
              `${typeName} programs`,
            )
          : undefined) ??
        (attach !== undefined && attachName !== undefined
          ? missingFromKernel(
              "attach",
              attach,
              `loading ${label} for attach type ${attachName}`,
              r.errno,
              `attach type ${attachName}`,
            )
          : undefined);
      if (missing) return missing;
      return new SyscallError(
        r.errno,
        operation,
        typeName === undefined
          ? `program type ${spec.type} is unknown (tsbpf's headers know 1..${Math.max(...Object.values(ProgType))}; the kernel did not accept it)`
          : `the kernel gave no verifier log: check the expected attach type, prog flags (${spec.flags ?? 0}), attach BTF id and that the type exists on this kernel`,
      );
    }
    case Errno.ENOTSUPP:
      return new NotSupportedError(
        `loading ${label}`,
        `the kernel answered ENOTSUPP${
          spec.type === ProgType.STRUCT_OPS
            ? " (struct_ops programs need attachBtfId of a struct_ops member)"
            : ""
        }`,
        r.errno,
      );
    default:
      return new SyscallError(r.errno, operation, r.log ? `log: ${r.log.trim()}` : undefined);
  }
}
