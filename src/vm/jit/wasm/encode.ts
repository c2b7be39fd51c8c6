/**
 * A small WebAssembly binary encoder: what the VM's wasm JIT target needs and no more
 * (function types, imported functions and memory, functions with locals, exports,
 * LEB128 immediates). Written here rather than taken from npm: the subset is ~250
 * lines, and a dependency would have to be bundled for browsers too.
 *
 * The format is the WebAssembly 1.0 binary format (plus the sign-extension and
 * bulk-memory `memory.fill` opcodes, in every engine since 2021).
 *
 * Pure: no `node:` imports.
 * @module
 */

/** Value types. */
export const I32 = 0x7f;
/** Value types. */
export const I64 = 0x7e;
/** A value type ({@link I32} or {@link I64}; the JIT uses no floats). */
export type ValType = typeof I32 | typeof I64;

/** Block type of a block, loop or if without results. */
export const VOID = 0x40;

/** Opcodes the JIT emits (WebAssembly 1.0 numbering). */
export const Op = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  return: 0x0f,
  call: 0x10,
  call_indirect: 0x11,
  drop: 0x1a,
  select: 0x1b,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  i32_load: 0x28,
  i64_load: 0x29,
  i64_load8_s: 0x30,
  i64_load8_u: 0x31,
  i64_load16_s: 0x32,
  i64_load16_u: 0x33,
  i64_load32_s: 0x34,
  i64_load32_u: 0x35,
  i32_store: 0x36,
  i64_store: 0x37,
  i64_store8: 0x3c,
  i64_store16: 0x3d,
  i64_store32: 0x3e,
  i32_const: 0x41,
  i64_const: 0x42,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  i64_eqz: 0x50,
  i64_eq: 0x51,
  i64_ne: 0x52,
  i64_lt_s: 0x53,
  i64_lt_u: 0x54,
  i64_gt_s: 0x55,
  i64_gt_u: 0x56,
  i64_le_s: 0x57,
  i64_le_u: 0x58,
  i64_ge_s: 0x59,
  i64_ge_u: 0x5a,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_div_s: 0x6d,
  i32_div_u: 0x6e,
  i32_rem_s: 0x6f,
  i32_rem_u: 0x70,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  i32_rotl: 0x77,
  i32_rotr: 0x78,
  i64_add: 0x7c,
  i64_sub: 0x7d,
  i64_mul: 0x7e,
  i64_div_s: 0x7f,
  i64_div_u: 0x80,
  i64_rem_s: 0x81,
  i64_rem_u: 0x82,
  i64_and: 0x83,
  i64_or: 0x84,
  i64_xor: 0x85,
  i64_shl: 0x86,
  i64_shr_s: 0x87,
  i64_shr_u: 0x88,
  i32_wrap_i64: 0xa7,
  i64_extend_i32_s: 0xac,
  i64_extend_i32_u: 0xad,
  i32_extend8_s: 0xc0,
  i32_extend16_s: 0xc1,
  i64_extend8_s: 0xc2,
  i64_extend16_s: 0xc3,
  i64_extend32_s: 0xc4,
} as const;

/** Where encoded bytes go: a `number[]` or a {@link ByteBuffer}. */
export interface ByteSink {
  push(b: number): unknown;
}

/** A growable byte array (the encoder's output: fewer copies than a `number[]`). */
export class ByteBuffer implements ByteSink {
  private buf: Uint8Array;
  /** Bytes written. */
  length = 0;

  /**
   * A buffer with room for `capacity` bytes before it grows, or writing into `capacity`
   * itself (its bytes overwritten; it is replaced if it fills up).
   */
  constructor(capacity: number | Uint8Array = 256) {
    this.buf = typeof capacity === "number" ? new Uint8Array(Math.max(16, capacity)) : capacity;
  }

  /** Appends one byte. */
  push(b: number): void {
    if (this.length === this.buf.length) this.grow(this.length + 1);
    this.buf[this.length++] = b;
  }

  /** Appends bytes. */
  append(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.buf.length) this.grow(this.length + bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The bytes written (a view, valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  private grow(min: number): void {
    const b = new Uint8Array(Math.max(min, this.buf.length * 2));
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }
}

/** Appends `v` (0 <= v < 2^32) as unsigned LEB128. */
export function writeU32(out: ByteSink, v: number): void {
  // One byte (local indexes, depths, most alignments and offsets): no checks needed.
  if (v >= 0 && v < 128 && (v | 0) === v) {
    out.push(v);
    return;
  }
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
    throw new RangeError(`LEB128 u32: ${v} is not an unsigned 32-bit integer`);
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

/** Appends `v` (an int32) as signed LEB128. */
export function writeI32(out: ByteSink, v: number): void {
  // One byte: -64..63.
  if (v >= -64 && v < 64 && (v | 0) === v) {
    out.push(v & 0x7f);
    return;
  }
  if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff)
    throw new RangeError(`LEB128 i32: ${v} is not a signed 32-bit integer`);
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** Appends the 64-bit value with low word `lo` and high word `hi` (int32s) as signed LEB128. */
export function writeI64(out: ByteSink, lo: number, hi: number): void {
  // Small values (the high word is the low word's sign) take the int32 path.
  if (hi === lo >> 31) {
    writeI32(out, lo | 0);
    return;
  }
  let v = BigInt.asIntN(64, (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0));
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** Appends a name (UTF-8 bytes, length-prefixed). */
function writeName(out: ByteSink, s: string): void {
  const b = new TextEncoder().encode(s);
  writeU32(out, b.length);
  for (const x of b) out.push(x);
}

/** Appends section `id` with `body`, length-prefixed. */
function writeSection(out: number[], id: number, body: number[]): void {
  out.push(id);
  writeU32(out, body.length);
  for (let i = 0; i < body.length; i++) out.push(body[i]!);
}

/**
 * The instructions of one function body, appended as bytes: one method per kind of
 * immediate, so the compiler reads like the text format.
 */
export class Code {
  /** The encoded instructions so far. */
  readonly bytes: ByteBuffer;

  /** A body with room for `capacity` bytes before its buffer grows, or written into `capacity`. */
  constructor(capacity: number | Uint8Array = 256) {
    this.bytes = new ByteBuffer(capacity);
  }

  /** An instruction without immediates. */
  op(op: number): this {
    this.bytes.push(op);
    return this;
  }

  /** `local.get`, `local.set` or `local.tee` of local `i`. */
  local(op: number, i: number): this {
    this.bytes.push(op);
    writeU32(this.bytes, i);
    return this;
  }

  /** `i32.const v`. */
  i32(v: number): this {
    this.bytes.push(Op.i32_const);
    writeI32(this.bytes, v | 0);
    return this;
  }

  /** `i64.const` of the 64-bit value (`lo`, `hi`); `hi` defaults to `lo`'s sign. */
  i64(lo: number, hi: number = lo >> 31): this {
    this.bytes.push(Op.i64_const);
    writeI64(this.bytes, lo | 0, hi | 0);
    return this;
  }

  /** A load or store with alignment (log2) `align` and constant offset `offset`. */
  mem(op: number, align: number, offset: number): this {
    this.bytes.push(op);
    writeU32(this.bytes, align);
    writeU32(this.bytes, offset);
    return this;
  }

  /** `block`, `loop` or `if` without results. */
  open(op: typeof Op.block | typeof Op.loop | typeof Op.if): this {
    this.bytes.push(op);
    this.bytes.push(VOID);
    return this;
  }

  /** `br` or `br_if` to the label `depth` levels out. */
  br(op: typeof Op.br | typeof Op.br_if, depth: number): this {
    this.bytes.push(op);
    writeU32(this.bytes, depth);
    return this;
  }

  /** `call f`. */
  call(f: number): this {
    this.bytes.push(Op.call);
    writeU32(this.bytes, f);
    return this;
  }

  /** `call_indirect` through table 0 with signature `type` (the element index on the stack). */
  callIndirect(type: number): this {
    this.bytes.push(Op.call_indirect);
    writeU32(this.bytes, type);
    this.bytes.push(0);
    return this;
  }

  /** `memory.fill` on memory 0 (bulk memory: destination, value, length on the stack). */
  memoryFill(): this {
    this.bytes.push(0xfc);
    writeU32(this.bytes, 11);
    this.bytes.push(0);
    return this;
  }
}

/** A function of a {@link ModuleBuilder}. */
interface FuncDef {
  readonly type: number;
  readonly locals: readonly ValType[];
  readonly body: Code;
}

/**
 * Builds one module: types, imported functions, at most one imported memory and one
 * imported table, functions, exports.
 *
 * @example
 * ```ts
 * const b = new ModuleBuilder();
 * const t = b.type([I64, I64], [I64]);
 * const body = new Code().local(Op.local_get, 0).local(Op.local_get, 1).op(Op.i64_add);
 * b.export("add", b.func(t, [], body));
 * const { add } = new WebAssembly.Instance(new WebAssembly.Module(b.build())).exports;
 * ```
 */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly typeBytes: number[][] = [];
  private readonly imports: number[][] = [];
  private importedFuncs = 0;
  private readonly funcs: FuncDef[] = [];
  private readonly exports: number[][] = [];

  /** The index of the function type `params -> results` (added once). */
  type(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(",")}>${results.join(",")}`;
    const at = this.types.indexOf(key);
    if (at >= 0) return at;
    const b = [0x60];
    writeU32(b, params.length);
    b.push(...params);
    writeU32(b, results.length);
    b.push(...results);
    this.types.push(key);
    this.typeBytes.push(b);
    return this.types.length - 1;
  }

  /** Imports function `module.name` of type `type`; returns its function index. */
  importFunc(module: string, name: string, type: number): number {
    if (this.funcs.length > 0)
      throw new Error("wasm encoder: import functions before defining any");
    const b: number[] = [];
    writeName(b, module);
    writeName(b, name);
    b.push(0x00);
    writeU32(b, type);
    this.imports.push(b);
    return this.importedFuncs++;
  }

  /** Imports memory `module.name` of `min` pages (at most `max`). */
  importMemory(module: string, name: string, min: number, max?: number): void {
    const b: number[] = [];
    writeName(b, module);
    writeName(b, name);
    b.push(0x02);
    if (max === undefined) {
      b.push(0x00);
      writeU32(b, min);
    } else {
      b.push(0x01);
      writeU32(b, min);
      writeU32(b, max);
    }
    this.imports.push(b);
  }

  /** Imports table `module.name` of function references, at least `min` elements. */
  importTable(module: string, name: string, min: number): void {
    const b: number[] = [];
    writeName(b, module);
    writeName(b, name);
    b.push(0x01, 0x70, 0x00);
    writeU32(b, min);
    this.imports.push(b);
  }

  /** Defines a function; returns its index (after the imported ones). */
  func(type: number, locals: readonly ValType[], body: Code): number {
    this.funcs.push({ type, locals, body });
    return this.importedFuncs + this.funcs.length - 1;
  }

  /** Exports function `index` as `name`. */
  export(name: string, index: number): void {
    const b: number[] = [];
    writeName(b, name);
    b.push(0x00);
    writeU32(b, index);
    this.exports.push(b);
  }

  /** The module's bytes. */
  build(): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const vec = (items: readonly number[][]): number[] => {
      const b: number[] = [];
      writeU32(b, items.length);
      for (const it of items) for (let i = 0; i < it.length; i++) b.push(it[i]!);
      return b;
    };
    writeSection(out, 1, vec(this.typeBytes));
    if (this.imports.length > 0) writeSection(out, 2, vec(this.imports));
    writeSection(
      out,
      3,
      vec(
        this.funcs.map((f) => {
          const b: number[] = [];
          writeU32(b, f.type);
          return b;
        }),
      ),
    );
    if (this.exports.length > 0) writeSection(out, 7, vec(this.exports));
    const bodies = this.funcs.map((f) => {
      const head: number[] = [];
      // Locals, run-length encoded by type.
      const runs: [number, ValType][] = [];
      for (const t of f.locals) {
        const last = runs[runs.length - 1];
        if (last !== undefined && last[1] === t) last[0]++;
        else runs.push([1, t]);
      }
      writeU32(head, runs.length);
      for (const [count, t] of runs) {
        writeU32(head, count);
        head.push(t);
      }
      const size: number[] = [];
      writeU32(size, head.length + f.body.bytes.length + 1);
      return { size, head, code: f.body.bytes.view() };
    });
    // The code section, written straight into the module's bytes, allocated once at
    // their exact size (growing and copying cost a 1,000-instruction program's compile
    // several copies of its code).
    const count: number[] = [];
    writeU32(count, bodies.length);
    let sectionLength = count.length;
    for (const b of bodies) sectionLength += b.size.length + b.head.length + b.code.length + 1;
    const lengthBytes: number[] = [];
    writeU32(lengthBytes, sectionLength);
    const total = out.length + 1 + lengthBytes.length + sectionLength;
    const result = new ByteBuffer(total);
    result.append(new Uint8Array(out));
    result.push(10);
    for (const x of lengthBytes) result.push(x);
    for (const x of count) result.push(x);
    for (const b of bodies) {
      for (const x of b.size) result.push(x);
      for (const x of b.head) result.push(x);
      result.append(b.code);
      result.push(Op.end);
    }
    const bytes = result.view();
    return bytes.length === bytes.buffer.byteLength ? bytes : bytes.slice();
  }
}
