/**
 * BTF in the kernel: load a blob (BPF_BTF_LOAD) with the kernel's log when it is
 * refused, open BTF objects by id with their raw bytes, read the kernel's and modules'
 * BTF from /sys/kernel/btf, and find out which BTF kinds this kernel accepts.
 *
 * @module
 */

// From the modules rather than btf/index.ts: loading BTF into the kernel needs neither
// the C dumper nor the value formatters (feature probes import this at start-up).
import type { BTF } from "../../btf/btf.ts";
import { encodeBTF, encodeTypes } from "../../btf/encode.ts";
import { parseBTF } from "../../btf/parse.ts";
import { ALL_BTF_FEATURES, type BTFFeatures } from "../../btf/sanitize.ts";
import { type BTFType, cIntType } from "../../btf/types.ts";
import { BpfCmd, bpfAttr, Errno } from "../../uapi/index.ts";
import { objectFdById } from "../objects/objects.ts";
import { BpfCall, Fd, type OutBuffer, SyscallError } from "../sys/index.ts";
import { type BtfInfo, btfInfoByFd } from "./btf-info.ts";
import { mapSysfsBTFWith, vmlinuxBTF } from "./sysfs.ts";
import { mapSysfsBTF } from "./vmlinux-mapping.ts";

// The kernel's published BTF is read by a module without native code (sysfs.ts), so
// that `btf dump file` can use it without loading the syscall layer. With the syscall
// layer loaded (here), vmlinux's is mapped where the kernel allows it.
export { moduleBTF, moduleBTFNames, SYSFS_BTF_DIR, vmlinuxBTF } from "./sysfs.ts";

mapSysfsBTFWith(mapSysfsBTF);

/** First log buffer size when a load fails and is retried for its log. */
const FIRST_LOG_SIZE = 64 * 1024;
/** The kernel refuses log buffers larger than this (UINT_MAX >> 2 in the kernel; we cap lower). */
const MAX_LOG_SIZE = 256 * 1024 * 1024;
const decoder = new TextDecoder();

/**
 * The kernel refused a BTF blob. `log` is the kernel's whole BTF verifier log (its
 * last lines say what is wrong and at which type); `message` quotes the last lines.
 */
export class BTFLoadError extends SyscallError {
  override readonly name: string = "BTFLoadError";
  /** The kernel's BTF log, complete. */
  readonly log: string;

  constructor(errno: number, operation: string, log: string) {
    const tail = log.trim().split("\n").slice(-4).join(" | ");
    super(errno, operation, tail ? `kernel BTF log: ${tail}` : undefined);
    this.log = log;
  }
}

/** Options for {@link KernelBTF.load}. */
export interface LoadBTFOptions {
  /**
   * Ask for the kernel's log even when the load succeeds (level 1). Without it, the
   * blob is loaded without a log first, and only a failure is retried with one.
   */
  readonly logLevel?: number;
  /** First log buffer size in bytes (grows on ENOSPC until the log fits). */
  readonly logSize?: number;
  /** Rewrite kinds this kernel lacks (see `sanitizeTypes`); default: as given. */
  readonly features?: BTFFeatures;
  /** Names the blob in errors, e.g. `BTF of "trace.bpf.o"`. */
  readonly what?: string;
}

interface LoadAttempt {
  readonly fd: number;
  readonly errno: number;
  readonly log: string;
  /** The log size the kernel needed (btf_log_true_size, Linux 6.4+), or 0. */
  readonly trueSize: number;
}

function attempt(bytes: Uint8Array, level: number, size: number): LoadAttempt {
  const call = new BpfCall(BpfCmd.BTF_LOAD, bpfAttr.btfLoad);
  call.input("btf", bytes).u32("btf_size", bytes.length);
  let log: OutBuffer | undefined;
  if (level > 0) {
    log = call.output("btf_log_buf", size);
    call.u32("btf_log_level", level).u32("btf_log_size", size);
  }
  const text = (): string => {
    if (!log) return "";
    const end = log.bytes.indexOf(0);
    return decoder.decode(log.bytes.subarray(0, end < 0 ? log.bytes.length : end));
  };
  try {
    const fd = call.invoke("BTF load", { retryEagain: true });
    return { fd, errno: 0, log: text(), trueSize: 0 };
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    return {
      fd: -1,
      errno: e.errno,
      log: text(),
      trueSize: level > 0 ? call.get("btf_log_true_size") : 0,
    };
  }
}

/** Loads with a log at `level`, growing the buffer while the kernel says it is too small. */
function loadWithLog(bytes: Uint8Array, level: number, size: number): LoadAttempt {
  for (;;) {
    const a = attempt(bytes, level, size);
    if (a.errno !== Errno.ENOSPC || size >= MAX_LOG_SIZE) return a;
    size = Math.min(MAX_LOG_SIZE, a.trueSize > size ? a.trueSize : size * 4);
  }
}

/**
 * A BTF object in the kernel: loaded by this process, or opened by id. Owns a file
 * descriptor; {@link close} it (or use `using`).
 *
 * @example
 * ```ts
 * using k = KernelBTF.load(parseBTF(bytes));
 * console.log(k.id, k.info().size);
 * ```
 */
export class KernelBTF {
  readonly #fd: Fd;
  /** The log the kernel wrote when this was loaded with a log level, else "". */
  readonly log: string;
  #info: BtfInfo | undefined;
  #btf: BTF | undefined;

  private constructor(fd: Fd, log = "", btf?: BTF) {
    this.#fd = fd;
    this.log = log;
    this.#btf = btf;
  }

  /**
   * Loads BTF into the kernel: a parsed {@link BTF} (encoded, sanitised for
   * `opts.features`) or raw bytes as they are.
   *
   * @throws {BTFLoadError} carrying the kernel's log when the kernel refuses it
   */
  static load(btf: BTF | Uint8Array, opts: LoadBTFOptions = {}): KernelBTF {
    const bytes =
      btf instanceof Uint8Array
        ? btf
        : encodeBTF(btf, opts.features ? { features: opts.features } : {});
    const what = opts.what ? `BTF load (${opts.what})` : "BTF load";
    const size = Math.max(opts.logSize ?? FIRST_LOG_SIZE, 128);
    let a: LoadAttempt;
    if (opts.logLevel) {
      a = loadWithLog(bytes, opts.logLevel, size);
    } else {
      a = attempt(bytes, 0, 0);
      if (a.fd < 0) a = loadWithLog(bytes, 1, size);
    }
    if (a.fd < 0) throw new BTFLoadError(a.errno, what, a.log);
    // What the kernel holds is `btf` itself unless it was rewritten for the kernel.
    const same = btf instanceof Uint8Array || opts.features ? undefined : btf;
    return new KernelBTF(new Fd(a.fd), a.log, same);
  }

  /**
   * Opens the BTF object with `id` (BPF_BTF_GET_FD_BY_ID); undefined when there is none.
   *
   * @throws SyscallError for other failures (EPERM without root)
   */
  static fromId(id: number): KernelBTF | undefined {
    const fd = objectFdById("btf", id);
    return fd ? new KernelBTF(fd) : undefined;
  }

  /** The descriptor's number (valid until close(); the object owns it). */
  get fd(): number {
    return this.#fd.value;
  }

  /** The kernel's id of this BTF object. */
  get id(): number {
    return this.info().id;
  }

  /** What the kernel says about this object (id, name, size, whether it is kernel BTF). */
  info(): BtfInfo {
    if (!this.#info) this.#info = btfInfoByFd(this.fd);
    return this.#info;
  }

  /** The raw BTF as the kernel holds it (BPF_OBJ_GET_INFO_BY_FD with a buffer). */
  bytes(): Uint8Array {
    const info = btfInfoByFd(this.fd, { withBytes: true });
    this.#info = { id: info.id, name: info.name, size: info.size, kernelBtf: info.kernelBtf };
    return info.bytes ?? new Uint8Array(0);
  }

  /**
   * The types, parsed. A kernel module's BTF is split BTF and is parsed on top of
   * vmlinux's ({@link vmlinuxBTF}).
   */
  btf(): BTF {
    if (!this.#btf) {
      const bytes = this.bytes();
      const info = this.info();
      const split = info.kernelBtf && info.name !== "vmlinux";
      // The kernel checked these bytes when it took them in.
      this.#btf = parseBTF(
        bytes,
        split ? { base: vmlinuxBTF(), kernelChecked: true } : { kernelChecked: true },
      );
    }
    return this.#btf;
  }

  /** Closes the descriptor (the kernel frees the BTF once nothing else holds it). */
  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

// ---- which kinds this kernel accepts ---------------------------------------------------

let features: BTFFeatures | undefined;

/** Tiny BTF blobs, one per feature, each using the kind in question (as libbpf probes). */
function probeBlobs(): Record<keyof BTFFeatures, BTFType[]> {
  const int = cIntType(1);
  return {
    func: [
      int,
      { kind: "FUNC_PROTO", id: 2, name: "", returnType: 1, params: [{ name: "x", type: 1 }] },
      { kind: "FUNC", id: 3, name: "f", type: 2, linkage: "static" },
    ],
    funcGlobal: [
      int,
      { kind: "FUNC_PROTO", id: 2, name: "", returnType: 1, params: [{ name: "x", type: 1 }] },
      { kind: "FUNC", id: 3, name: "f", type: 2, linkage: "global" },
    ],
    datasec: [
      int,
      { kind: "VAR", id: 2, name: "x", type: 1, linkage: "global" },
      { kind: "DATASEC", id: 3, name: ".data", size: 4, vars: [{ type: 2, offset: 0, size: 4 }] },
    ],
    float: [{ kind: "FLOAT", id: 1, name: "float", size: 4 }],
    declTag: [
      int,
      { kind: "VAR", id: 2, name: "x", type: 1, linkage: "global" },
      { kind: "DECL_TAG", id: 3, name: "tag", type: 2, componentIdx: -1 },
    ],
    typeTag: [
      int,
      { kind: "TYPE_TAG", id: 2, name: "tag", type: 1 },
      { kind: "PTR", id: 3, name: "", type: 2 },
    ],
    enum64: [
      {
        kind: "ENUM64",
        id: 1,
        name: "e",
        size: 8,
        signed: false,
        values: [{ name: "A", value: 1n << 40n }],
      },
    ],
  };
}

/**
 * Which BTF kinds the running kernel accepts, found by loading one small blob per
 * kind (cached). Pass the result to `encodeBTF(btf, { features })` or
 * {@link KernelBTF.load} to rewrite what it lacks.
 *
 * @throws SyscallError when BTF cannot be loaded at all (EPERM without privileges)
 */
export function probeBTFFeatures(): BTFFeatures {
  if (features) return features;
  const result: Record<string, boolean> = { ...ALL_BTF_FEATURES };
  // A plain INT first: if even that fails, the problem is not a kind.
  const base = attempt(encodeTypes([probeBlobs().func[0] as BTFType]), 0, 0);
  if (base.fd < 0) throw new SyscallError(base.errno, "BTF load (probe of BTF support)");
  new Fd(base.fd).close();
  for (const [name, types] of Object.entries(probeBlobs())) {
    const a = attempt(encodeTypes(types), 0, 0);
    if (a.fd >= 0) new Fd(a.fd).close();
    result[name] = a.fd >= 0;
  }
  features = result as unknown as BTFFeatures;
  return features;
}
