/**
 * `Program`: a BPF program loaded in the kernel. Load one from a {@link ProgramSpec}
 * (with the verifier's log), or open one that is already there (by pin, id or fd);
 * run it with BPF_PROG_TEST_RUN; pin it; read its info.
 * @module
 */

import type { BackendProgram } from "../../spec/backend.ts";
import { describeProgram, type ProgramSpec } from "../../spec/program-spec.ts";
import { BpfCmd, bpfAttr, progTypeName } from "../../uapi/index.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import { type AttachTarget, attachProgram } from "../links/attach-program.ts";
import type { Link } from "../links/link.ts";
import { requireFdKind } from "../objects/fd-kind.ts";
import { adoptOrClose, requireObjectFdById } from "../objects/objects.ts";
import { adoptPinned, pinObject } from "../objects/pin.ts";
import { BpfCall, Fd, SyscallError } from "../sys/index.ts";
import { kernelVersionCode, runningKernelVersion } from "../system/kernel-version.ts";
import { type ProgramInfo, programInfoByFd } from "./prog-info.ts";
import { type LoadOptions, loadProgramFd } from "./program-load.ts";
import { type RunOptions, type RunResult, testRunProgram } from "./test-run.ts";

/**
 * A program in the kernel, owning one descriptor. `close()` (or `using`) releases it;
 * the kernel frees the program once nothing else (a pin, a link, an attachment)
 * holds it.
 *
 * @example
 * ```ts
 * using prog = Program.load(
 *   { name: "ret2", type: ProgType.SOCKET_FILTER, license: "GPL", instructions },
 *   { logLevel: 2 },
 * );
 * console.log(prog.verifierLog);
 * const { retval } = prog.run({ data: new Uint8Array(64) });
 * ```
 */
export class Program implements BackendProgram {
  readonly #fd: Fd;
  /** `enum bpf_prog_type`. */
  readonly type: number;
  /** The name (as the spec gave it, or as the kernel keeps it for opened programs). */
  readonly name: string;
  /** The verifier log, when the program was loaded with a log level. */
  readonly verifierLog: string | undefined;
  /** The spec it was loaded from (undefined for programs opened by fd, pin or id). */
  readonly spec: ProgramSpec | undefined;

  private constructor(
    fd: Fd,
    type: number,
    name: string,
    verifierLog: string | undefined,
    spec?: ProgramSpec,
  ) {
    this.#fd = fd;
    this.type = type;
    this.name = name;
    this.verifierLog = verifierLog;
    this.spec = spec;
  }

  /** The descriptor's number (valid until close(); the program owns it). */
  get fd(): number {
    return this.#fd.value;
  }

  /**
   * Loads `spec` into the kernel.
   * @throws ProgramSpecError for a malformed spec, VerifierError when the verifier
   * rejects it (with the log and the failing instruction), NotSupportedError when the
   * kernel refuses the program type, SyscallError otherwise.
   */
  static load(spec: ProgramSpec, opts: LoadOptions = {}): Program {
    const { fd, log } = loadProgramFd(spec, opts);
    return new Program(fd, spec.type, spec.name, log, spec);
  }

  /**
   * Takes ownership of a program descriptor (a number or an {@link Fd}); reads its
   * type and name from the kernel.
   * @throws SyscallError when `fd` is not a BPF program (the descriptor is then not kept).
   */
  static fromFd(fd: number | Fd): Program {
    const owned = typeof fd === "number" ? new Fd(fd) : fd;
    try {
      requireFdKind(owned.value, "prog", "Program.fromFd");
      const info = programInfoByFd(owned.value);
      return new Program(owned, info.type, info.name, undefined);
    } catch (e) {
      if (typeof fd === "number") owned.release();
      throw e;
    }
  }

  /**
   * Opens the program pinned at `path` (on bpffs).
   * @throws SyscallError naming the path (and whether it is on bpffs at all), or when
   * the object pinned there is not a program.
   */
  static fromPin(path: string): Program {
    return adoptPinned(path, "BPF program", Program.fromFd);
  }

  /**
   * Opens the program with kernel id `id`.
   * @throws Error when there is no such program; SyscallError without privileges.
   */
  static fromId(id: number): Program {
    return adoptOrClose(requireObjectFdById("prog", id), Program.fromFd);
  }

  /** bpftool's name for the type, e.g. "xdp". */
  get typeName(): string {
    return progTypeName(this.type) ?? `type ${this.type}`;
  }

  /** A label for messages: `xdp program "pass"`. */
  toString(): string {
    return describeProgram({ name: this.name, type: this.type as ProgramSpec["type"] });
  }

  /**
   * Runs the program once (or `repeat` times) with BPF_PROG_TEST_RUN.
   * @throws NotSupportedError when this kernel cannot test-run this program type.
   */
  run(opts: RunOptions = {}): RunResult {
    return testRunProgram(this.fd, this.toString(), this.typeName, opts);
  }

  /**
   * Attaches the program to the hook its spec names (the attach descriptor the ELF
   * loader read from its SEC() name); `target` gives what a spec cannot say (the
   * interface, the cgroup, a pid, a cookie). See {@link attachProgram}.
   * @throws Error for a program opened without a spec, or whose spec names no hook
   * @example
   * ```ts
   * using link = coll.program("handle_openat").attach();
   * ```
   */
  attach(target: AttachTarget = {}): Link {
    if (!this.spec) {
      throw new Error(
        `${this} was opened, not loaded from a spec: attach it with its hook's function (attachTracepoint, attachKprobe, ...)`,
      );
    }
    return attachProgram(this, this.spec, target);
  }

  /** Pins the program at `path` on bpffs (the directory must exist). */
  pin(path: string): void {
    pinObject(this.fd, path);
  }

  /**
   * Ties `map` to this program (BPF_PROG_BIND_MAP, Linux >= 5.10) so it lives as long
   * as the program and shows in its `map_ids`, though no instruction uses it — as
   * libbpf binds `.rodata` to every program so `bpf_metadata_*` variables show in
   * `prog show`.
   * @throws NotSupportedError when the kernel has no BPF_PROG_BIND_MAP
   */
  bindMap(map: { readonly fd: Fd | number }): void {
    const mapFd = typeof map.fd === "number" ? map.fd : map.fd.value;
    const call = new BpfCall(BpfCmd.PROG_BIND_MAP, bpfAttr.progBindMap);
    call.u32("prog_fd", this.fd).u32("map_fd", mapFd);
    try {
      call.invoke(() => `bind a map to ${this}`);
    } catch (e) {
      if (e instanceof SyscallError && e.code === "EINVAL" && !haveBindMapCommand()) {
        throw new NotSupportedError("BPF_PROG_BIND_MAP", "it needs Linux 5.10", e.errno);
      }
      throw e;
    }
  }

  /** The kernel's `bpf_prog_info` for this program, decoded (arrays included). */
  info(): ProgramInfo {
    return programInfoByFd(this.fd);
  }

  /** The kernel id of the program. */
  get id(): number {
    return this.info().id;
  }

  /** Closes the descriptor. Safe to call more than once. */
  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Does the kernel know BPF_PROG_BIND_MAP (Linux >= 5.10)? An unknown command is EINVAL too. */
function haveBindMapCommand(): boolean {
  return runningKernelVersion() >= kernelVersionCode({ major: 5, minor: 10, patch: 0 });
}
