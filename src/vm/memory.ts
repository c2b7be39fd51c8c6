/**
 * The VM's address space: one flat 64-bit space in which pointers are plain
 * addresses, carved into regions (stack frames, the context, packet data, map values,
 * raw input memory), each with its own bounds for reads and for writes.
 *
 * ## Representation (chosen for the interpreter's hot path)
 *
 * An address is a 64-bit value held, like every register, as two int32 halves:
 *
 * - the high word is `REGION_HI_BASE + regionId`, so finding the region is one
 *   subtraction and one array index, no search;
 * - the low word is `REGION_LO_BASE + byteOffset`. Starting offsets at 0x1000_0000
 *   keeps small negative displacements (r10 - 8, `ptr - 1`) from borrowing into the
 *   high word, so ordinary pointer arithmetic on the pair stays inside the region tag.
 *
 * Every address is below 2^53 (region ids stay below 2^20), so addresses also survive
 * a trip through a JS number. Each region owns one `Uint8Array` (with a `DataView`
 * over it) and four int32 bounds: bytes `[readLo, readHi)` may be read and
 * `[writeLo, writeHi)` written; a region that needs code to answer (a context whose
 * fields the kernel rewrites into pointer loads) has a {@link RegionHandler} and empty
 * fast bounds, so the interpreter's one bounds check sends it down the slow path.
 *
 * ## Confinement per program
 *
 * Programs that share a space do not share what they may touch: each machine checks
 * its accesses against its own {@link RegionAccess}, a copy of the four bound arrays in
 * which regions that are not its own (another program's stack or maps, a map it never
 * named, a frame whose call returned) are empty. Map values and ring-buffer records are
 * handed out as windows: regions of their own over the same bytes with the bounds of
 * one value or record. The interpreter's fast path is unchanged: it reads the machine's
 * arrays instead of the space's.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { VmError } from "./errors.ts";

/** High word of the address of region 0. */
export const REGION_HI_BASE = 0x1000;
/** Low word of byte 0 of every region. */
export const REGION_LO_BASE = 0x1000_0000;
/** Largest region, in bytes. */
export const MAX_REGION_SIZE = 0x4000_0000;
/** Most regions one address space holds. */
export const MAX_REGIONS = 0x10_0000;

/** What a region is, for messages and for helpers that check pointer kinds. */
export type RegionKind = "stack" | "ctx" | "packet" | "map" | "mem" | "other";

/**
 * Code that answers loads and stores a region's fast bounds do not cover: the kernel
 * rewrites context field accesses, so a context's "memory" is partly computed.
 * `load` writes the 64-bit result into `out[0]` (low) and `out[1]` (high) and returns
 * true, or returns false to fault; `store` returns false to fault.
 */
export interface RegionHandler {
  /**
   * True when `load` answers from state that changes only when a helper runs or the
   * program stores through this handler, with no side effects: a JIT may then cache
   * its answers between those (the wasm target does, for 4-byte loads).
   */
  readonly pure?: boolean;
  /** Loads `size` bytes at byte `offset`. */
  load(offset: number, size: number, out: Int32Array): boolean;
  /** Stores the low `size` bytes of the value (`lo`, `hi`) at byte `offset`. */
  store(offset: number, size: number, lo: number, hi: number): boolean;
}

/** Bounds and permissions of a new region. */
export interface RegionOptions {
  /** What the region is (default "other"). */
  kind?: RegionKind;
  /** Readable byte range (default the whole region). */
  read?: readonly [number, number];
  /** Writable byte range (default the whole region; `[0, 0]` for read-only). */
  write?: readonly [number, number];
  /** Slow-path handler for accesses outside the fast bounds. */
  handler?: RegionHandler;
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

/** Per-region read and write bounds, as VmMemory and each program's RegionAccess keep them. */
interface RegionBounds {
  readonly readLo: Int32Array;
  readonly readHi: Int32Array;
  readonly writeLo: Int32Array;
  readonly writeHi: Int32Array;
}

/** The last serial number an address space took ({@link VmMemory.serial}). */
let serials = 0;

/**
 * True when bytes `offset..end` of region `id` lie within its read bounds (unless
 * `access` is "write") and its write bounds (unless it is "read").
 */
function withinBounds(
  b: RegionBounds,
  id: number,
  offset: number,
  end: number,
  access: "read" | "write" | "readwrite",
): boolean {
  const okRead =
    access === "write" || (offset >= (b.readLo[id] as number) && end <= (b.readHi[id] as number));
  const okWrite =
    access === "read" || (offset >= (b.writeLo[id] as number) && end <= (b.writeHi[id] as number));
  return okRead && okWrite;
}

/**
 * A flat address space of regions. Programs that share maps or tail-call each other
 * must share one `VmMemory`.
 *
 * @example
 * ```ts
 * const mem = new VmMemory();
 * const id = mem.addRegion("input", new Uint8Array(16), { kind: "mem" });
 * const addr = mem.address(id, 0); // 0x100010000000n
 * mem.bytesAt(addr, 16, "read");   // the input's bytes
 * ```
 */
export class VmMemory {
  /** A number no other address space of this process has (see `MovableBytes`). */
  readonly serial = ++serials;
  /** Bytes of each region, by id. */
  bytes: Uint8Array[] = [];
  /** A DataView over each region's bytes. */
  views: DataView[] = [];
  /** Name of each region, for messages. */
  names: string[] = [];
  /** Kind of each region. */
  kinds: RegionKind[] = [];
  /** Slow-path handler of each region (or undefined). */
  handlers: (RegionHandler | undefined)[] = [];
  /** First readable byte of each region. */
  readLo: Int32Array = new Int32Array(16);
  /** End of the readable bytes of each region. */
  readHi: Int32Array = new Int32Array(16);
  /** First writable byte of each region. */
  writeLo: Int32Array = new Int32Array(16);
  /** End of the writable bytes of each region. */
  writeHi: Int32Array = new Int32Array(16);
  /** The object each region belongs to (a map, ...), when it was added with {@link regionFor}. */
  owners: (object | undefined)[] = [];
  /** Number of regions. */
  count = 0;
  private readonly ids = new WeakMap<object, number>();
  /** Regions made to show another's bytes ({@link alias}): id -> base. */
  private readonly aliases = new Map<number, number>();

  /**
   * Adds a region over `bytes` (kept, not copied) and returns its id.
   * @throws RangeError when the region is too large or the space is full.
   */
  addRegion(name: string, bytes: Uint8Array, opts: RegionOptions = {}): number {
    if (bytes.length > MAX_REGION_SIZE)
      throw new RangeError(`region ${name}: ${bytes.length} bytes is above ${MAX_REGION_SIZE}`);
    if (this.count >= MAX_REGIONS) throw new RangeError(`address space full (${MAX_REGIONS})`);
    const id = this.count++;
    if (id >= this.readLo.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.readLo = grow(this.readLo);
      this.readHi = grow(this.readHi);
      this.writeLo = grow(this.writeLo);
      this.writeHi = grow(this.writeHi);
    }
    this.bytes[id] = bytes;
    this.views[id] = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.names[id] = name;
    this.kinds[id] = opts.kind ?? "other";
    this.handlers[id] = opts.handler;
    this.setBounds(id, opts.read ?? [0, bytes.length], opts.write ?? [0, bytes.length]);
    return id;
  }

  /**
   * The id of the region for `owner` (a map, a program's input...), adding it with
   * `make` the first time: lets one object's bytes appear once per address space.
   */
  regionFor(owner: object, make: () => number): number {
    let id = this.ids.get(owner);
    if (id === undefined) {
      id = make();
      this.ids.set(owner, id);
      this.owners[id] = owner;
    }
    return id;
  }

  /** Replaces the bytes behind region `id` (same bounds rules as {@link addRegion}). */
  setBytes(id: number, bytes: Uint8Array): void {
    this.bytes[id] = bytes;
    this.views[id] = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Sets the readable and writable byte ranges of region `id`. A program that follows
   * the region's bounds sees the change once it calls {@link RegionAccess.follow}
   * (the space keeps no list of programs, so a dropped program is not kept alive).
   */
  setBounds(id: number, read: readonly [number, number], write: readonly [number, number]): void {
    this.readLo[id] = read[0];
    this.readHi[id] = read[1];
    this.writeLo[id] = write[0];
    this.writeHi[id] = write[1];
  }

  /** Makes region `id` show the bytes of region `base` (same buffer, same view). */
  alias(id: number, base: number): void {
    this.bytes[id] = this.bytes[base] as Uint8Array;
    this.views[id] = this.views[base] as DataView;
    this.aliases.set(id, base);
  }

  /** The region id of `owner` when it has one here ({@link regionFor}). */
  regionOf(owner: object): number | undefined {
    return this.ids.get(owner);
  }

  /**
   * Moves region `base` to new bytes (a map whose values moved, see
   * `VmArrayMap.relocate`), with every region that {@link alias}es it.
   */
  rebind(base: number, bytes: Uint8Array): void {
    this.setBytes(base, bytes);
    for (const [id, b] of this.aliases) if (b === base) this.alias(id, base);
  }

  /** The address of byte `offset` of region `id`. */
  address(id: number, offset: number): bigint {
    return (BigInt(REGION_HI_BASE + id) << 32n) + BigInt(REGION_LO_BASE + offset);
  }

  /** Splits an address into region id and byte offset (the region may not exist). */
  locate(addr: bigint): { id: number; offset: number } {
    const a = BigInt.asUintN(64, addr);
    const hi = Number(a >> 32n);
    const lo = Number(a & 0xffff_ffffn);
    return { id: hi - REGION_HI_BASE, offset: lo - REGION_LO_BASE };
  }

  /**
   * A view of `len` bytes at `addr`, checked against the region's read or write
   * bounds (both for "readwrite"). The view aliases VM memory.
   * @throws VmError naming the address and the region it falls outside of.
   */
  bytesAt(addr: bigint, len: number, access: "read" | "write" | "readwrite"): Uint8Array {
    const { id, offset } = this.locate(addr);
    if (id < 0 || id >= this.count || len < 0) throw this.fault(addr, len, access);
    const end = offset + len;
    if (!withinBounds(this, id, offset, end, access)) throw this.fault(addr, len, access);
    return (this.bytes[id] as Uint8Array).subarray(offset, end);
  }

  /** Describes region `id` for messages: `stack frame 0 (bytes 0..512, writable 0..512)`. */
  describe(id: number): string {
    if (id < 0 || id >= this.count) return "no region";
    const r = `${this.readLo[id]}..${this.readHi[id]}`;
    const w =
      this.writeLo[id] === this.writeHi[id]
        ? "read-only"
        : `writable ${this.writeLo[id]}..${this.writeHi[id]}`;
    return `${this.names[id]} (readable ${r}, ${w}${this.handlers[id] ? ", fields" : ""})`;
  }

  /** The VmError for a bad access of `len` bytes at `addr`. */
  fault(addr: bigint, len: number, access: string, pc = -1, insn?: string): VmError {
    const a = BigInt.asUintN(64, addr);
    const { id, offset } = this.locate(a);
    let why: string;
    if (a === 0n) why = "null pointer";
    else if (id < 0 || id >= this.count) why = "not in any region";
    else why = `byte ${offset}..${offset + len} of ${this.describe(id)}`;
    return new VmError(`invalid ${access} of ${len} bytes at ${hex(a)}: ${why}`, pc, insn, a);
  }
}

/** A region a {@link RegionAccess} does not grant: every access faults. */
export const ACCESS_NONE = 0;
/** Granted with the region's own bounds, followed as they change (context, packet, input). */
export const ACCESS_FOLLOW = 1;
/**
 * Granted with bounds of the view's own: a stack frame (open only while its call is
 * live), a window on one map value or ring-buffer record, a map handle (no bytes).
 */
export const ACCESS_OWN = 2;

/**
 * What one program's runs may touch in a shared {@link VmMemory}: per region, the
 * bounds this program sees (empty for regions that are not its own). The interpreter
 * checks these arrays instead of the space's, so confinement per program costs nothing
 * on the fast path: a region of another program, a map the program never referenced,
 * a dead stack frame all have empty bounds here, and the access takes the slow path
 * to a fault.
 *
 * @example
 * ```ts
 * const access = new RegionAccess(mem);
 * access.grant(stackId);              // the region's bounds
 * access.bytesAt(addr, 8, "read");    // checked against this program's view
 * ```
 */
export class RegionAccess {
  /** The address space. */
  readonly memory: VmMemory;
  /** Per region: {@link ACCESS_NONE}, {@link ACCESS_FOLLOW} or {@link ACCESS_OWN}. */
  mode: Uint8Array;
  /** First readable byte of each region, for this program. */
  readLo: Int32Array;
  /** End of the readable bytes of each region, for this program. */
  readHi: Int32Array;
  /** First writable byte of each region, for this program. */
  writeLo: Int32Array;
  /** End of the writable bytes of each region, for this program. */
  writeHi: Int32Array;

  /** An empty view of `memory`: nothing granted. */
  constructor(memory: VmMemory) {
    this.memory = memory;
    const n = memory.readLo.length;
    this.mode = new Uint8Array(n);
    this.readLo = new Int32Array(n);
    this.readHi = new Int32Array(n);
    this.writeLo = new Int32Array(n);
    this.writeHi = new Int32Array(n);
  }

  /**
   * Grows the per-region arrays to the space's capacity when regions were added since
   * (by this program's helpers or by other programs): call before reading the arrays
   * for a region id below `memory.count`.
   */
  ensure(): void {
    const n = this.memory.readLo.length;
    if (this.mode.length < n) this.grow(n);
  }

  /** Grows the per-region arrays to `n` entries. */
  grow(n: number): void {
    const g = <T extends Int32Array | Uint8Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.mode = g(this.mode, new Uint8Array(n));
    this.readLo = g(this.readLo, new Int32Array(n));
    this.readHi = g(this.readHi, new Int32Array(n));
    this.writeLo = g(this.writeLo, new Int32Array(n));
    this.writeHi = g(this.writeHi, new Int32Array(n));
  }

  /** Copies the space's bounds of region `id`. */
  copyBounds(id: number): void {
    const m = this.memory;
    this.readLo[id] = m.readLo[id] as number;
    this.readHi[id] = m.readHi[id] as number;
    this.writeLo[id] = m.writeLo[id] as number;
    this.writeHi[id] = m.writeHi[id] as number;
  }

  /** Grants region `id` with its own bounds, following them as they change ({@link follow}). */
  grant(id: number): void {
    this.ensure();
    this.mode[id] = ACCESS_FOLLOW;
    this.copyBounds(id);
  }

  /** Takes the space's new bounds of region `id` when this program follows it. */
  follow(id: number): void {
    if (this.mode[id] === ACCESS_FOLLOW) this.copyBounds(id);
  }

  /** Grants region `id` with the given bounds (fixed until changed here). */
  grantBounds(id: number, read: readonly [number, number], write: readonly [number, number]): void {
    this.ensure();
    this.mode[id] = ACCESS_OWN;
    this.readLo[id] = read[0];
    this.readHi[id] = read[1];
    this.writeLo[id] = write[0];
    this.writeHi[id] = write[1];
  }

  /** Grants region `id` as a handle (a map the program names): no bytes, unless granted already. */
  grantHandle(id: number): void {
    this.ensure();
    if (this.mode[id] === ACCESS_NONE) this.grantBounds(id, [0, 0], [0, 0]);
  }

  /** Takes region `id` away. */
  revoke(id: number): void {
    this.grantBounds(id, [0, 0], [0, 0]);
    this.mode[id] = ACCESS_NONE;
  }

  /** True when region `id` exists and is granted (with bytes or as a handle). */
  has(id: number): boolean {
    return id >= 0 && id < this.memory.count && (this.mode[id] ?? ACCESS_NONE) !== ACCESS_NONE;
  }

  /**
   * A view of `len` bytes at `addr`, checked against this program's bounds (both for
   * "readwrite"). The view aliases VM memory.
   * @throws VmError naming the address and the region.
   */
  bytesAt(addr: bigint, len: number, access: "read" | "write" | "readwrite"): Uint8Array {
    const mem = this.memory;
    this.ensure();
    const { id, offset } = mem.locate(addr);
    if (id < 0 || id >= mem.count || len < 0 || !Number.isSafeInteger(len))
      throw this.fault(addr, len, access);
    const end = offset + len;
    if (!withinBounds(this, id, offset, end, access)) throw this.fault(addr, len, access);
    return (mem.bytes[id] as Uint8Array).subarray(offset, end);
  }

  /** Describes region `id` as this program sees it. */
  describe(id: number): string {
    const mem = this.memory;
    if (id < 0 || id >= mem.count) return "no region";
    if ((this.mode[id] ?? ACCESS_NONE) === ACCESS_NONE)
      return `${mem.names[id]} (not a region of this program)`;
    const lo = this.readLo[id] as number;
    const hi = this.readHi[id] as number;
    if (lo === hi && this.writeLo[id] === this.writeHi[id] && !mem.handlers[id])
      return `${mem.names[id]} (no bytes open to this program)`;
    const w =
      this.writeLo[id] === this.writeHi[id]
        ? "read-only"
        : `writable ${this.writeLo[id]}..${this.writeHi[id]}`;
    return `${mem.names[id]} (readable ${lo}..${hi}, ${w}${mem.handlers[id] ? ", fields" : ""})`;
  }

  /** The VmError for a bad access of `len` bytes at `addr`, naming the region as this program sees it. */
  fault(addr: bigint, len: number, access: string, pc = -1, insn?: string): VmError {
    const a = BigInt.asUintN(64, addr);
    const { id, offset } = this.memory.locate(a);
    let why: string;
    if (a === 0n) why = "null pointer";
    else if (id < 0 || id >= this.memory.count) why = "not in any region";
    else why = `byte ${offset}..${offset + len} of ${this.describe(id)}`;
    return new VmError(`invalid ${access} of ${len} bytes at ${hex(a)}: ${why}`, pc, insn, a);
  }
}
