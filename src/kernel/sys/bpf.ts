/**
 * bpf(2): build a `union bpf_attr` in native memory by field name, call the kernel,
 * and turn a failure into a {@link SyscallError}.
 *
 * Pointers inside bpf_attr (keys, values, the verifier log buffer, path names) must
 * point at memory that does not move, so every call gets a bump-allocated arena of
 * native memory; data is copied in before the call and out after it. Calls are
 * synchronous and not re-entrant: one {@link BpfCall} is live at a time.
 */
import { Errno } from "../../uapi/errno.ts";
import { BPF_ATTR_SIZE, type BpfCmd, type StructLayout } from "../../uapi/index.ts";
import { SyscallError } from "./errors.ts";
import { allocNative, freeNative, lastErrno, type NativeMemory, syscall4 } from "./native.ts";
import { syscallNumber } from "./numbers.ts";

const SYS_bpf = syscallNumber("bpf");
/*
 * Module-local copies for bpfRaw's hot path: under tsx (tests, benches) imports are
 * compiled to CommonJS getters, so every use of an imported name is a getter call;
 * that cost about 150 ns per map lookup (measured). Local consts cost nothing.
 */
const ATTR_SIZE = BPF_ATTR_SIZE;
const rawSyscall = syscall4;
const rawErrno = lastErrno;
const EINTR = Errno.EINTR;
const EAGAIN = Errno.EAGAIN;
/**
 * libbpf retries program and BTF loads a few times on EAGAIN (the verifier stops with
 * it when a signal is pending); so do we.
 */
export const MAX_EAGAIN_RETRIES = 5;
/**
 * A call interrupted by a signal is made again, but not for ever: BPF_PROG_TEST_RUN
 * with a large repeat starts over each time, and a timer signal that comes more often
 * than the run lasts (a profiler's SIGPROF) would retry it endlessly.
 */
export const MAX_EINTR_RETRIES = 16;
const EINTR_DETAIL = `interrupted by a signal ${MAX_EINTR_RETRIES + 1} times in a row`;

const ARENA_SIZE = 1 << 16;
const attrMem = allocNative(BPF_ATTR_SIZE);
const attrView = new DataView(attrMem.bytes.buffer, attrMem.bytes.byteOffset, BPF_ATTR_SIZE);
const arena = allocNative(ARENA_SIZE);
let arenaUsed = 0;
/** Large buffers that did not fit in the arena; freed when the next call starts. */
let overflow: NativeMemory[] = [];
const encoder = new TextEncoder();

/**
 * Reserved native memory: its address as a number (user-space addresses fit in 53
 * bits, and a number is stored without a BigInt) and a view of its bytes.
 */
interface Reserved {
  readonly addr: number;
  readonly bytes: Uint8Array;
}

function reserve(size: number): Reserved {
  const aligned = (arenaUsed + 7) & ~7;
  if (aligned + size <= ARENA_SIZE) {
    arenaUsed = aligned + size;
    const bytes = arena.bytes.subarray(aligned, aligned + size);
    bytes.fill(0);
    return { addr: arena.addr + aligned, bytes };
  }
  const mem = allocNative(size);
  overflow.push(mem);
  return mem;
}

function releaseOverflow(): void {
  if (overflow.length === 0) return; // the common case: no allocation per call
  for (const m of overflow) freeNative(m);
  overflow = [];
}

/** Bytes the kernel writes during a call; valid until the next {@link BpfCall} starts. */
export class OutBuffer {
  /** @internal */
  constructor(readonly bytes: Uint8Array) {}
  /** A copy of the bytes, safe to keep. */
  copy(): Uint8Array {
    return this.bytes.slice();
  }
}

const NO_OPTIONS = {};

/** The field names of a generated layout: a misspelled bpf_attr field does not compile. */
export type FieldName<L extends StructLayout> = keyof L["fields"] & string;

/**
 * One bpf(2) call under construction. Set fields by their `union bpf_attr` name
 * (from the generated layout, so only that command's field names typecheck), then
 * {@link invoke}.
 *
 * @example
 * const call = new BpfCall(BpfCmd.MAP_LOOKUP_ELEM, bpfAttr.mapElem);
 * call.u32("map_fd", fd).input("key", key);
 * const value = call.output("value", valueSize);
 * call.invoke("map lookup");
 * return value.copy();
 */
export class BpfCall<L extends StructLayout = StructLayout> {
  readonly cmd: BpfCmd;
  readonly layout: L;

  constructor(cmd: BpfCmd, layout: L) {
    this.cmd = cmd;
    this.layout = layout;
    arenaUsed = 0;
    releaseOverflow();
    attrMem.bytes.fill(0);
  }

  private field(name: FieldName<L>) {
    const f = this.layout.fields[name];
    if (!f) throw new Error(`internal: bpf_attr has no field ${name} in this command's layout`);
    return f;
  }

  /** Sets an integer field of 1, 2, 4 or 8 bytes (or a bitfield). */
  set(name: FieldName<L>, value: number | bigint): this {
    const f = this.field(name);
    // Most fields are u32s set from numbers: written as they are, without the BigInt
    // round trip below (a PROG_LOAD sets a dozen).
    if (f.bitSize === undefined && typeof value === "number") {
      if (f.size === 4) {
        attrView.setUint32(f.offset, value >>> 0, true);
        return this;
      }
      if (f.size === 8 && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
        // pointers (addresses as numbers) and u64s that fit: two halves, no BigInt
        attrView.setUint32(f.offset, value % 0x1_0000_0000, true);
        attrView.setUint32(f.offset + 4, Math.floor(value / 0x1_0000_0000), true);
        return this;
      }
    }
    if (f.bitSize !== undefined) {
      const cur = readUnsigned(f.offset, f.size);
      const mask = ((1n << BigInt(f.bitSize)) - 1n) << BigInt(f.bitOffset ?? 0);
      const next = (cur & ~mask) | ((BigInt(value) << BigInt(f.bitOffset ?? 0)) & mask);
      writeUnsigned(f.offset, f.size, next);
      return this;
    }
    writeUnsigned(f.offset, f.size, BigInt.asUintN(f.size * 8, BigInt(value)));
    return this;
  }

  /** Alias of {@link set} for 32-bit fields, for readability at call sites. */
  u32(name: FieldName<L>, value: number): this {
    return this.set(name, value);
  }

  /** Copies `data` into native memory and stores its address in pointer field `name`. */
  input(name: FieldName<L>, data: Uint8Array): this {
    const r = reserve(data.length);
    r.bytes.set(data);
    return this.set(name, r.addr);
  }

  /** A NUL-terminated string in native memory, its address in `name`. */
  string(name: FieldName<L>, s: string): this {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; encoded straight into the arena.
    const r = reserve(s.length * 3 + 1);
    const { written } = encoder.encodeInto(s, r.bytes);
    r.bytes[written] = 0;
    return this.set(name, r.addr);
  }

  /** Copies a string (truncated to fit, NUL-terminated) into an inline char array field. */
  inlineString(name: FieldName<L>, s: string): this {
    const f = this.field(name);
    // The attribute was zeroed when the call started, so the byte after the text is NUL;
    // encodeInto stops at whole characters, as the copy of a truncated string should.
    encoder.encodeInto(s, attrMem.bytes.subarray(f.offset, f.offset + f.size - 1));
    return this;
  }

  /** Reserves `size` zeroed bytes for the kernel to write, its address in `name`. */
  output(name: FieldName<L>, size: number): OutBuffer {
    const r = reserve(size);
    this.set(name, r.addr);
    return new OutBuffer(r.bytes);
  }

  /** Like {@link output} but starting with a copy of `data`. */
  inout(name: FieldName<L>, data: Uint8Array): OutBuffer {
    const r = reserve(data.length);
    r.bytes.set(data);
    this.set(name, r.addr);
    return new OutBuffer(r.bytes);
  }

  /** Reads an integer field back after the call (the kernel writes some, e.g. retval). */
  get(name: FieldName<L>): number {
    const f = this.field(name);
    const v = readUnsigned(f.offset, f.size);
    if (f.bitSize !== undefined) {
      return Number((v >> BigInt(f.bitOffset ?? 0)) & ((1n << BigInt(f.bitSize)) - 1n));
    }
    return Number(v);
  }

  /** Reads a 64-bit field back after the call. */
  get64(name: FieldName<L>): bigint {
    const f = this.field(name);
    return readUnsigned(f.offset, f.size);
  }

  /**
   * Calls bpf(2). Returns the non-negative result (an fd for commands that create
   * one). EINTR is retried up to {@link MAX_EINTR_RETRIES} times in a row; EAGAIN a few
   * times when `retryEagain` is set.
   * `operation` may be a function, called only for the error: a label such as
   * `create hash map "counts"` then costs nothing on the calls that succeed.
   * @throws SyscallError naming `operation`.
   */
  invoke(
    operation: string | (() => string),
    opts: { retryEagain?: boolean; detail?: string } = NO_OPTIONS,
  ): number {
    let eagain = 0;
    let eintr = 0;
    for (;;) {
      const r = rawSyscall(SYS_bpf, this.cmd, attrMem.addr, ATTR_SIZE);
      if (r >= 0) return r;
      const e = lastErrno();
      if (e === EINTR && eintr++ < MAX_EINTR_RETRIES) continue;
      if (e === EAGAIN && opts.retryEagain && eagain++ < MAX_EAGAIN_RETRIES) continue;
      const what = typeof operation === "string" ? operation : operation();
      const detail =
        e === EINTR ? [opts.detail, EINTR_DETAIL].filter(Boolean).join("; ") : opts.detail;
      throw new SyscallError(e, what, detail);
    }
  }

  /**
   * Calls bpf(2) as {@link invoke} does, but a failure is a value: returns the
   * non-negative result or `-errno`, for walks where most calls fail by design (asking
   * every descriptor of every process what it is). EINTR is retried as in {@link invoke}.
   */
  tryInvoke(): number {
    return bpfRaw(this.cmd, attrMem);
  }
}

function readUnsigned(offset: number, size: number): bigint {
  switch (size) {
    case 1:
      return BigInt(attrView.getUint8(offset));
    case 2:
      return BigInt(attrView.getUint16(offset, true));
    case 4:
      return BigInt(attrView.getUint32(offset, true));
    case 8:
      return attrView.getBigUint64(offset, true);
    default:
      throw new Error(`internal: unsupported field size ${size}`);
  }
}

function writeUnsigned(offset: number, size: number, v: bigint): void {
  switch (size) {
    case 1:
      attrView.setUint8(offset, Number(v));
      return;
    case 2:
      attrView.setUint16(offset, Number(v), true);
      return;
    case 4:
      attrView.setUint32(offset, Number(v), true);
      return;
    case 8:
      attrView.setBigUint64(offset, v, true);
      return;
    default:
      throw new Error(`internal: unsupported field size ${size}`);
  }
}

/**
 * The bare call for hot paths (map lookup/update from a preallocated attribute):
 * `attr` must hold a complete `union bpf_attr`. Returns the result, or `-errno`
 * (errno is read only when the call failed: koffi.errno() is one more native call).
 * EINTR is retried.
 */
export function bpfRaw(cmd: BpfCmd, attr: NativeMemory): number {
  for (let eintr = 0; ; eintr++) {
    const r = rawSyscall(SYS_bpf, cmd, attr.addr, ATTR_SIZE);
    if (r >= 0) return r;
    const e = rawErrno();
    if (e !== EINTR || eintr >= MAX_EINTR_RETRIES) return -e;
  }
}
