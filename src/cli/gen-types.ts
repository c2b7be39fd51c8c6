/**
 * `tsbpf gen types`: a typed TypeScript module for a BPF object — what bpftool's
 * `gen skeleton` and cilium/ebpf's bpf2go give C and Go users.
 *
 * From the object's BTF it writes, for every type a map key, map value or global
 * variable uses:
 * - an interface per struct/union (`struct flow_key` → `FlowKey`) and a const object of
 *   the same name per enum (`enum color` → `Color.GREEN`);
 * - a codec per type (`FlowKey.decode(bytes, offset)`, `FlowKey.encode(value)`) over
 *   DataView at the BTF's offsets, bitfields included;
 * - `Maps`/`Programs`/`Variables` shapes with the object's names, maps typed by their
 *   key and value codecs, variables read and written through theirs;
 * - `load<Name>(path | spec, options)`: `Collection.load` wrapped with those types.
 *
 * JavaScript values follow `decodeValue`'s rules (src/btf/decode-value.ts): up to 32
 * bits → number, 64/128 bits and pointers → bigint, `_Bool` → boolean, `char` arrays →
 * string, other arrays → arrays, anonymous struct/union members hoisted. Members of a
 * union are optional: `encode` writes the first one given.
 */
import {
  type BTF,
  type BTFType,
  type CompositeType,
  isCharElement,
  type TypeId,
} from "../btf/index.ts";
import type { CollectionSpec } from "../spec/collection-spec.ts";
import { MapType } from "../uapi/index.ts";

/** Options of {@link generateTypes}. */
export interface GenTypesOptions {
  /** The object's name (identifiers derive from it: `load<Name>`). */
  readonly name: string;
  /** Where the generated module imports tsbpf's kernel API from. Default "tsbpf/kernel". */
  readonly module?: string;
  /** The command line, quoted in the header. */
  readonly command?: string;
}

/** Thrown when the object cannot be described in TypeScript (no BTF, odd types). */
export class GenTypesError extends Error {
  override readonly name = "GenTypesError";
}

/** `flow_key` → `FlowKey`, `.data` → `Data`, `btf-values` → `BtfValues`. */
export function pascalCase(name: string): string {
  const s = name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join("");
  return /^[0-9]/.test(s) ? `_${s}` : s || "_";
}

const KEY_VALUE_TYPES: ReadonlySet<number> = new Set([
  MapType.HASH,
  MapType.ARRAY,
  MapType.LRU_HASH,
  MapType.LPM_TRIE,
]);
const PER_CPU_TYPES: ReadonlySet<number> = new Set([
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.LRU_PERCPU_HASH,
]);

/** Identifiers the prelude and the loader use. */
const RESERVED = new Set([
  "Codec",
  "TypedMap",
  "TypedPerCpuMap",
  "TypedVariable",
  "Collection",
  "CollectionOptions",
  "BpfMap",
  "Program",
  "Variable",
  "loadCollection",
]);

/** Lays out the code of one codec: what decode returns, what encode writes. */
interface Emitted {
  /** TypeScript type of the JS value. */
  ts: string;
  /** Expression reading the value at `o + <off>` from `b`/`v`. */
  read: (off: string) => string;
  /** Statements writing `val` at `o + <off>`. */
  write: (val: string, off: string, indent: string) => string;
}

class Generator {
  readonly #btf: BTF;
  readonly #out: string[] = [];
  /** Codec name by type id, for composite and enum types already emitted or queued. */
  readonly #names = new Map<TypeId, string>();
  readonly #used = new Set<string>(RESERVED);
  #loop = 0;

  constructor(btf: BTF) {
    this.#btf = btf;
  }

  get code(): string {
    return this.#out.join("");
  }

  #unique(want: string): string {
    let name = want;
    for (let i = 2; this.#used.has(name); i++) name = `${want}${i}`;
    this.#used.add(name);
    return name;
  }

  /** Skips typedefs and qualifiers, remembering the first typedef name met. */
  #resolve(id: TypeId): { t: BTFType; alias: string | undefined } {
    let t = this.#btf.type(id);
    let alias: string | undefined;
    for (let i = 0; i < 64; i++) {
      if (t.kind === "TYPEDEF") alias ??= t.name;
      else if (!["CONST", "VOLATILE", "RESTRICT", "TYPE_TAG", "VAR"].includes(t.kind)) break;
      t = this.#btf.type((t as { type: TypeId }).type);
    }
    return { t, alias };
  }

  /** The codec of a type (composite types and enums get named declarations). */
  emit(id: TypeId, hint: string): Emitted {
    const { t, alias } = this.#resolve(id);
    switch (t.kind) {
      case "INT":
        return intCodec(t.bits, t.signed, t.bool, t.bitOffset);
      case "ENUM":
      case "ENUM64": {
        if (t.name || alias) this.#enumConst(t, t.name || (alias as string));
        const c = intCodec(t.size * 8, t.signed, false, 0);
        if (t.kind === "ENUM64" && c.ts === "number") {
          // An ENUM64 is a bigint whatever its size.
          return {
            ts: "bigint",
            read: (off) => `BigInt(${c.read(off)})`,
            write: (val, off, ind) => c.write(`Number(${val})`, off, ind),
          };
        }
        if (t.kind === "ENUM" && c.ts === "bigint") {
          // An 8-byte ENUM still holds 32-bit values: a number.
          return {
            ts: "number",
            read: (off) => `Number(${c.read(off)})`,
            write: (val, off, ind) => c.write(`BigInt(${val})`, off, ind),
          };
        }
        return c;
      }
      case "PTR":
        return intCodec(64, false, false, 0);
      case "FLOAT":
        if (t.size === 4) {
          return {
            ts: "number",
            read: (off) => `v.getFloat32(o + ${off}, true)`,
            write: (val, off, ind) => `${ind}v.setFloat32(o + ${off}, ${val}, true);\n`,
          };
        }
        if (t.size === 8) {
          return {
            ts: "number",
            read: (off) => `v.getFloat64(o + ${off}, true)`,
            write: (val, off, ind) => `${ind}v.setFloat64(o + ${off}, ${val}, true);\n`,
          };
        }
        return bytesCodec(t.size);
      case "ARRAY": {
        if (isCharElement(this.#btf, t)) {
          return {
            ts: "string",
            read: (off) => `getString(b, o + ${off}, ${t.nelems})`,
            write: (val, off, ind) => `${ind}setString(b, o + ${off}, ${t.nelems}, ${val});\n`,
          };
        }
        const elem = this.emit(t.type, hint);
        const size = this.#btf.sizeof(t.type);
        const i = `i${this.#loop++}`;
        const at = (off: string) => `${off} + ${i} * ${size}`;
        return {
          ts: `${/[ |]/.test(elem.ts) ? `(${elem.ts})` : elem.ts}[]`,
          read: (off) => `Array.from({ length: ${t.nelems} }, (_, ${i}) => ${elem.read(at(off))})`,
          write: (val, off, ind) =>
            `${ind}for (let ${i} = 0; ${i} < ${t.nelems}; ${i}++) {\n` +
            elem.write(`${val}[${i}]!`, at(off), `${ind}  `) +
            `${ind}}\n`,
        };
      }
      case "STRUCT":
      case "UNION": {
        const name = this.#composite(t, t.name || alias || hint);
        return {
          ts: name,
          read: (off) => `${name}.decode(b, o + ${off})`,
          write: (val, off, ind) => `${ind}${name}.encode(${val}, b, o + ${off});\n`,
        };
      }
      default:
        throw new GenTypesError(
          `type [${t.id}] (${t.kind}${t.name ? ` ${t.name}` : ""}) has no TypeScript value`,
        );
    }
  }

  #enumConst(t: BTFType & { kind: "ENUM" | "ENUM64" }, cname: string): void {
    if (this.#names.has(t.id)) return;
    const name = this.#unique(pascalCase(cname));
    this.#names.set(t.id, name);
    const big = t.kind === "ENUM64";
    const lines = t.values.map((e) => `  ${e.name}: ${e.value}${big ? "n" : ""},\n`).join("");
    this.#out.push(`/** \`enum ${cname}\`. */\nexport const ${name} = {\n${lines}} as const;\n\n`);
  }

  /** Emits `interface NAME` and its codec; returns NAME. */
  #composite(t: CompositeType, cname: string): string {
    const known = this.#names.get(t.id);
    if (known) return known;
    const name = this.#unique(pascalCase(cname));
    this.#names.set(t.id, name);
    const fields: string[] = [];
    const reads: string[] = [];
    // Members first (nested types are emitted before this declaration).
    const body = this.#members(t, "0", name, fields, reads, "x", "    ", false);
    const kw = t.kind === "UNION" ? "union" : "struct";
    this.#out.push(
      `/** \`${kw} ${t.name || cname}\` (${t.size} bytes). */\n` +
        `export interface ${name} {\n${fields.join("")}}\n\n` +
        `/** Codec of {@link ${name}}. */\n` +
        `export const ${name}: Codec<${name}> = {\n` +
        `  size: ${t.size},\n` +
        `  decode(b: Uint8Array, o = 0): ${name} {\n` +
        `    const v = view(b);\n` +
        `    return {\n${reads.join("")}    };\n` +
        "  },\n" +
        `  encode(x: ${name}, b: Uint8Array = new Uint8Array(${t.size}), o = 0): Uint8Array {\n` +
        "    const v = view(b);\n" +
        `${body}` +
        "    return b;\n" +
        "  },\n" +
        "};\n\n",
    );
    return name;
  }

  /**
   * Fields, decode entries and encode statements of a composite's members at byte
   * offset `base`; anonymous struct/union members are hoisted (optional when they
   * are union alternatives).
   */
  #members(
    t: CompositeType,
    base: string,
    owner: string,
    fields: string[],
    reads: string[],
    x: string,
    ind: string,
    optional: boolean,
  ): string {
    const union = t.kind === "UNION";
    const parts: { cond: string; code: string }[] = [];
    for (const m of t.members) {
      const off = `${base} + ${m.bitOffset >> 3}`.replace(/^0 \+ /, "");
      const opt = optional || union;
      const inner = this.#resolve(m.type).t;
      if (m.name === "" && (inner.kind === "STRUCT" || inner.kind === "UNION")) {
        const subFields: string[] = [];
        const code = this.#members(inner, off, owner, subFields, reads, x, `${ind}  `, opt);
        fields.push(...subFields);
        const names = subFields.map((f) => /^ {2}(\w+)/.exec(f)?.[1] as string);
        parts.push({ cond: names.map((n) => `${x}.${n} !== undefined`).join(" || "), code });
        continue;
      }
      if (m.name === "") continue; // a nameless bitfield: padding
      const name = m.name;
      const c = this.#member(m.type, m.bitOffset, m.bitfieldSize, pascalCase(`${owner}_${name}`));
      fields.push(`  ${name}${opt ? "?" : ""}: ${c.ts};\n`);
      reads.push(`      ${name}: ${c.read(off)},\n`);
      const val = `${x}.${name}`;
      parts.push({
        cond: `${val} !== undefined`,
        code: c.write(opt ? `${val}!` : val, off, `${ind}  `),
      });
    }
    if (union) {
      // The first member given is written.
      return parts
        .map((p, i) => `${ind}${i ? "} else " : ""}if (${p.cond || "false"}) {\n${p.code}`)
        .concat(parts.length ? [`${ind}}\n`] : [])
        .join("");
    }
    if (optional) {
      return parts.map((p) => `${ind}if (${p.cond || "false"}) {\n${p.code}${ind}}\n`).join("");
    }
    return parts.map((p) => dedent(p.code)).join("");
  }

  /** A member's codec: bitfields and non-byte-aligned INTs through getBits/setBits. */
  #member(type: TypeId, bitOffset: number, bitfieldSize: number, hint: string): Emitted {
    const shift = bitOffset & 7;
    const target = this.#resolve(type).t;
    const isInt = target.kind === "INT";
    const bits =
      bitfieldSize ||
      (shift && isInt ? target.bits : 0) ||
      (isInt && target.bits % 8 ? target.bits : 0);
    if (!bits) return this.emit(type, hint);
    const signed = (isInt || target.kind === "ENUM") && (target as { signed: boolean }).signed;
    const bool = isInt && target.bool;
    const big = bits > 32;
    return {
      ts: bool ? "boolean" : big ? "bigint" : "number",
      read: (off) => {
        const e = `getBits(b, o + ${off}, ${shift}, ${bits}, ${signed})`;
        return bool ? `${e} !== 0n` : big ? e : `Number(${e})`;
      },
      write: (val, off, ind) =>
        `${ind}setBits(b, o + ${off}, ${shift}, ${bits}, BigInt(${bool ? `${val} ? 1 : 0` : val}));\n`,
    };
  }

  /** A named codec for a root type (map key/value, variable): returns its name. */
  root(id: TypeId, name: string): string {
    const { t } = this.#resolve(id);
    if (t.kind === "STRUCT" || t.kind === "UNION") {
      return this.emit(id, name).ts;
    }
    const c = this.emit(id, name);
    const codec = this.#unique(name);
    const size = this.#btf.sizeof(id);
    const body = c.write("x", "0", "    ");
    this.#out.push(
      `/** \`${describe(this.#btf, id)}\`. */\n` +
        `export type ${codec} = ${c.ts};\n` +
        `/** Codec of {@link ${codec}}. */\n` +
        `export const ${codec}: Codec<${codec}> = {\n` +
        `  size: ${size},\n` +
        `  decode(b: Uint8Array, o = 0): ${codec} {\n` +
        `${c.read("0").includes("v.") ? "    const v = view(b);\n" : ""}` +
        `    return ${c.read("0")};\n` +
        "  },\n" +
        `  encode(x: ${codec}, b: Uint8Array = new Uint8Array(${size}), o = 0): Uint8Array {\n` +
        `${body.includes("v.") ? "    const v = view(b);\n" : ""}` +
        body +
        "    return b;\n" +
        "  },\n" +
        "};\n\n",
    );
    return codec;
  }
}

/** Code of an integer of `size` bytes (`bits` of them used at `bitOffset`). */
function intCodec(bits: number, signed: boolean, bool: boolean, bitOffset: number): Emitted {
  if (bitOffset || bits % 8 || ![8, 16, 32, 64, 128].includes(bits)) {
    const big = bits > 32;
    return {
      ts: bool ? "boolean" : big ? "bigint" : "number",
      read: (off) => {
        const e = `getBits(b, o + ${off}, ${bitOffset}, ${bits}, ${signed})`;
        return bool ? `${e} !== 0n` : big ? e : `Number(${e})`;
      },
      write: (val, off, ind) =>
        `${ind}setBits(b, o + ${off}, ${bitOffset}, ${bits}, BigInt(${bool ? `${val} ? 1 : 0` : val}));\n`,
    };
  }
  if (bool) {
    return {
      ts: "boolean",
      read: (off) => `getBits(b, o + ${off}, 0, ${bits}, false) !== 0n`,
      write: (val, off, ind) => `${ind}setBits(b, o + ${off}, 0, ${bits}, ${val} ? 1n : 0n);\n`,
    };
  }
  if (bits === 128) {
    return {
      ts: "bigint",
      read: (off) => `getBits(b, o + ${off}, 0, 128, ${signed})`,
      write: (val, off, ind) => `${ind}setBits(b, o + ${off}, 0, 128, ${val});\n`,
    };
  }
  const method = {
    8: signed ? "Int8" : "Uint8",
    16: signed ? "Int16" : "Uint16",
    32: signed ? "Int32" : "Uint32",
    64: signed ? "BigInt64" : "BigUint64",
  }[bits as 8 | 16 | 32 | 64];
  const le = bits === 8 ? "" : ", true";
  return {
    ts: bits === 64 ? "bigint" : "number",
    read: (off) => `v.get${method}(o + ${off}${le})`,
    write: (val, off, ind) => `${ind}v.set${method}(o + ${off}, ${val}${le});\n`,
  };
}

function bytesCodec(size: number): Emitted {
  return {
    ts: "Uint8Array",
    read: (off) => `b.slice(o + ${off}, o + ${off} + ${size})`,
    write: (val, off, ind) => `${ind}b.set(${val}.subarray(0, ${size}), o + ${off});\n`,
  };
}

function dedent(code: string): string {
  return code.replace(/^ {2}/gm, "");
}

/** A C-like name for a type: `u64`, `char[8]`, `struct point[2]`. */
function describe(btf: BTF, id: TypeId): string {
  const t = btf.type(id);
  if (t.kind === "ARRAY") return `${describe(btf, t.type)}[${t.nelems}]`;
  if (t.kind === "CONST" || t.kind === "VOLATILE") {
    return `${t.kind.toLowerCase()} ${describe(btf, t.type)}`;
  }
  if (t.kind === "PTR") return `${describe(btf, t.type)} *`;
  if (t.kind === "STRUCT" || t.kind === "UNION" || t.kind === "ENUM") {
    return `${t.kind.toLowerCase()} ${t.name || "(anon)"}`;
  }
  return t.name || t.kind.toLowerCase();
}

const PRELUDE = `/** Decodes and encodes one BTF type at a byte offset. */
export interface Codec<T> {
  /** Size in bytes. */
  readonly size: number;
  /** The value at \`offset\` of \`bytes\`. */
  decode(bytes: Uint8Array, offset?: number): T;
  /** Writes \`value\` at \`offset\` of \`bytes\` (a new zeroed buffer by default) and returns the buffer. */
  encode(value: T, bytes?: Uint8Array, offset?: number): Uint8Array;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function getString(b: Uint8Array, at: number, n: number): string {
  let end = at;
  while (end < at + n && b[end] !== 0) end++;
  return String.fromCharCode(...b.subarray(at, end));
}

function setString(b: Uint8Array, at: number, n: number, s: string): void {
  for (let i = 0; i < n; i++) b[at + i] = i < s.length ? s.charCodeAt(i) & 0xff : 0;
}

function getBits(b: Uint8Array, at: number, shift: number, bits: number, signed: boolean): bigint {
  const n = (shift + bits + 7) >> 3;
  let x = 0n;
  for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[at + i] ?? 0);
  x = (x >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n);
  return signed ? BigInt.asIntN(bits, x) : x;
}

function setBits(b: Uint8Array, at: number, shift: number, bits: number, value: bigint): void {
  const n = (shift + bits + 7) >> 3;
  const mask = ((1n << BigInt(bits)) - 1n) << BigInt(shift);
  let x = 0n;
  for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[at + i] ?? 0);
  x = (x & ~mask) | ((BigInt.asUintN(bits, value) << BigInt(shift)) & mask);
  for (let i = 0; i < n; i++) {
    b[at + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** A map whose keys and values go through codecs. */
export class TypedMap<K, V> {
  constructor(
    /** The map itself. */
    readonly raw: BpfMap,
    readonly key: Codec<K>,
    readonly value: Codec<V>,
  ) {}
  /** The value under \`key\`, or undefined. */
  lookup(key: K): V | undefined {
    const v = this.raw.lookup(this.key.encode(key));
    return v && this.value.decode(v);
  }
  /** Creates or replaces an element (\`flags\`: BPF_ANY, BPF_NOEXIST, BPF_EXIST). */
  update(key: K, value: V, flags = 0): void {
    this.raw.update(this.key.encode(key), this.value.encode(value), flags);
  }
  /** Deletes \`key\`; false when it was not there. */
  delete(key: K): boolean {
    return this.raw.delete(this.key.encode(key));
  }
  /** Every element. */
  *entries(): IterableIterator<[K, V]> {
    for (const [k, v] of this.raw.entries()) yield [this.key.decode(k), this.value.decode(v)];
  }
}

/** A per-CPU map: one value per possible CPU. */
export class TypedPerCpuMap<K, V> {
  constructor(
    /** The map itself. */
    readonly raw: BpfMap,
    readonly key: Codec<K>,
    readonly value: Codec<V>,
  ) {}
  /** The values under \`key\` (index = CPU), or undefined. */
  lookup(key: K): V[] | undefined {
    return this.raw.lookupPerCpu(this.key.encode(key))?.map((v) => this.value.decode(v));
  }
  /** Sets the value of every CPU. */
  update(key: K, values: readonly V[], flags = 0): void {
    this.raw.updatePerCpu(this.key.encode(key), values.map((v) => this.value.encode(v)), flags);
  }
  /** Deletes \`key\`; false when it was not there. */
  delete(key: K): boolean {
    return this.raw.delete(this.key.encode(key));
  }
  /** Every element with its per-CPU values. */
  *entries(): IterableIterator<[K, V[]]> {
    for (const [k, vs] of this.raw.entriesPerCpu()) {
      yield [this.key.decode(k), vs.map((v) => this.value.decode(v))];
    }
  }
}

/** A global variable read and written through its codec. */
export class TypedVariable<T> {
  constructor(
    /** The variable itself. */
    readonly raw: Variable,
    readonly codec: Codec<T>,
  ) {}
  /** The current value. */
  get(): T {
    return this.codec.decode(this.raw.get());
  }
  /** Writes the value (not for read-only .rodata variables once loaded). */
  set(value: T): void {
    this.raw.set(this.codec.encode(value));
  }
}

`;

const quote = (name: string): string =>
  /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);

/**
 * The TypeScript module for `spec`.
 *
 * @throws {GenTypesError} when the object has no BTF or a type has no TypeScript form
 */
export function generateTypes(spec: CollectionSpec, opts: GenTypesOptions): string {
  const btf = spec.btf;
  if (!btf) throw new GenTypesError("the object has no BTF (.BTF section): compile it with -g");
  const g = new Generator(btf);
  const base = pascalCase(opts.name);
  const mapLines: string[] = [];
  const mapInit: string[] = [];
  for (const m of Object.values(spec.maps)) {
    const key = m.btfKeyTypeId ?? 0;
    const value = m.btfValueTypeId ?? 0;
    const typed = key && value && (KEY_VALUE_TYPES.has(m.type) || PER_CPU_TYPES.has(m.type));
    const prop = quote(m.name);
    const access = `c.maps[${JSON.stringify(m.name)}]`;
    if (typed) {
      const kc = g.root(key, `${pascalCase(m.name)}Key`);
      const vc = g.root(value, `${pascalCase(m.name)}Value`);
      const cls = PER_CPU_TYPES.has(m.type) ? "TypedPerCpuMap" : "TypedMap";
      mapLines.push(
        `  /** \`${m.name}\`: ${cls === "TypedMap" ? "" : "per-CPU "}${kc} → ${vc}. */\n  readonly ${prop}: ${cls}<${kc}, ${vc}>;\n`,
      );
      mapInit.push(`      ${prop}: new ${cls}(${access}, ${kc}, ${vc}),\n`);
    } else {
      mapLines.push(`  /** \`${m.name}\`. */\n  readonly ${prop}: BpfMap;\n`);
      mapInit.push(`      ${prop}: ${access},\n`);
    }
  }
  const varLines: string[] = [];
  const varInit: string[] = [];
  for (const v of Object.values(spec.variables)) {
    if (!v.typeId) continue;
    const codec = g.root(v.typeId, `${pascalCase(v.name)}Var`);
    const prop = quote(v.name);
    varLines.push(
      `  /** \`${v.name}\` in ${v.map}${v.readOnly ? " (read-only once loaded)" : ""}. */\n  readonly ${prop}: TypedVariable<${codec}>;\n`,
    );
    varInit.push(
      `      ${prop}: new TypedVariable(c.variables[${JSON.stringify(v.name)}], ${codec}),\n`,
    );
  }
  const progs = Object.keys(spec.programs);
  const union = (names: readonly string[]) =>
    names.map((n) => JSON.stringify(n)).join(" | ") || "never";
  const mapNames = Object.keys(spec.maps);
  const varNames = Object.values(spec.variables)
    .filter((v) => v.typeId)
    .map((v) => v.name);
  const module = opts.module ?? "tsbpf/kernel";
  return (
    "/**\n" +
    ` * Types, codecs and a loader for the BPF object "${opts.name}".\n` +
    " *\n" +
    ` * @generated by \`${opts.command ?? "tsbpf gen types"}\`: do not edit, regenerate.\n` +
    " * @module\n" +
    " */\n" +
    "/* eslint-disable */\n" +
    "// biome-ignore-all lint: generated code\n" +
    `import {\n  type BpfMap,\n  Collection,\n  type CollectionOptions,\n  loadCollection,\n  type Program,\n  type Variable,\n} from ${JSON.stringify(module)};\n\n` +
    PRELUDE +
    g.code +
    `/** Map names of ${opts.name}. */\nexport type ${base}MapName = ${union(mapNames)};\n` +
    `/** Program names of ${opts.name}. */\nexport type ${base}ProgramName = ${union(progs)};\n` +
    `/** Global variable names of ${opts.name}. */\nexport type ${base}VariableName = ${union(varNames)};\n\n` +
    `/** The maps of ${opts.name}, typed by their BTF key and value types. */\nexport interface ${base}Maps {\n${mapLines.join("")}}\n\n` +
    `/** The programs of ${opts.name}. */\nexport interface ${base}Programs {\n${progs.map((p) => `  readonly ${quote(p)}: Program;\n`).join("")}}\n\n` +
    `/** The global variables of ${opts.name}, typed by their BTF types. */\nexport interface ${base}Variables {\n${varLines.join("")}}\n\n` +
    `/** ${opts.name} loaded into the kernel. */\nexport interface ${base} extends Disposable {\n` +
    `  /** The collection underneath (untyped access, BTF, CO-RE results). */\n  readonly collection: Collection<${base}MapName, ${base}ProgramName, ${base}VariableName>;\n` +
    `  readonly maps: ${base}Maps;\n  readonly programs: ${base}Programs;\n  readonly variables: ${base}Variables;\n` +
    "  /** Closes every descriptor the collection owns. */\n  close(): void;\n}\n\n" +
    `/**\n * Loads ${opts.name} from its object file (or an already read spec) into the kernel.\n *\n` +
    ` * @example\n * \`\`\`ts\n * using obj = load${base}("${opts.name}.bpf.o");\n * \`\`\`\n */\n` +
    `export function load${base}(\n  source: string | Parameters<typeof Collection.load>[0],\n  options: CollectionOptions = {},\n): ${base} {\n` +
    `  const c =\n    typeof source === "string"\n      ? loadCollection<${base}MapName, ${base}ProgramName, ${base}VariableName>(source, options)\n      : Collection.load<${base}MapName, ${base}ProgramName, ${base}VariableName>(source, options);\n` +
    "  try {\n" +
    `    const maps: ${base}Maps = {\n${mapInit.join("")}    };\n` +
    `    const variables: ${base}Variables = {\n${varInit.join("")}    };\n` +
    "    return {\n      collection: c,\n      maps,\n      programs: c.programs,\n      variables,\n" +
    "      close: () => c.close(),\n      [Symbol.dispose]: () => c.close(),\n    };\n" +
    "  } catch (e) {\n    c.close();\n    throw e;\n  }\n}\n"
  );
}
