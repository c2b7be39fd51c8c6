/**
 * `tsbpf gen types`: a typed TypeScript module for a BPF object — what bpftool's
 * `gen skeleton` and cilium/ebpf's bpf2go give C and Go users.
 *
 * The module is thin, like bpf2go's template: everything that runs lives in the
 * library ("tsbpf/spec": codecs, TypedMap, TypedVariable, typedCollection), and the
 * module holds, from the object's BTF:
 * - an interface per struct/union (`struct flow_key` → `FlowKey`) and a const object
 *   of the same name per enum (`enum color` → `Color.GREEN`);
 * - a codec per type, declared as data from the library's blocks
 *   (`struct<FlowKey>("flow_key", 16, { saddr: [0, u32], ... })`), so
 *   `FlowKey.decode(bytes)` gives a typed object;
 * - for every type a map key, map value or global variable uses, and every type named
 *   with `type NAME` (bpf2go's `-type`: ring/perf buffer records no map names);
 * - the object's map, program and variable names, the `Maps`/`Programs`/`Variables`
 *   shapes, typed `.rodata` constants (`<name>Constants(values)` for any load options),
 *   `load<Name>(backend, spec, { constants })` (kernelBackend or vmBackend; the caller
 *   reads the object, so it works in a browser) and `bind<Name>(coll)` (a collection
 *   already loaded, keeping the backend's own classes: the kernel's BpfMap for readers).
 *
 * Values follow `decodeValue`'s rules (src/btf/decode-value.ts); see src/spec/codec.ts.
 */
import {
  type BTF,
  type BTFType,
  type CompositeType,
  isCharElement,
  type TypeId,
} from "../../btf/index.ts";
import type { CollectionSpec } from "../../spec/collection-spec.ts";
import { MapType, mapTypeName } from "../../uapi/index.ts";

/** Options of {@link generateTypes}. */
export interface GenTypesOptions {
  /** The object's name (identifiers derive from it: `load<Name>`). */
  readonly name: string;
  /** Where the generated module imports "tsbpf/spec" from. Default "tsbpf/spec". */
  readonly module?: string;
  /** The command line, quoted in the header. */
  readonly command?: string;
  /** BTF type names (struct, union, enum or typedef) to emit even when nothing uses them. */
  readonly types?: readonly string[];
}

/** Thrown when the object cannot be described in TypeScript (no BTF, odd types, unknown names). */
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

/** What the module may import from the library (values and types). */
const LIBRARY = [
  "Backend",
  "Codec",
  "CollectionSpec",
  "LoadedCollection",
  "TypedCollection",
  "TypedMap",
  "TypedPerCpuMap",
  "TypedVariable",
  "encodeConstants",
  "typedCollection",
  "array",
  "asBigInt",
  "asNumber",
  "bigBits",
  "bits",
  "bool",
  "boolBits",
  "bytes",
  "chars",
  "f32",
  "f64",
  "s8",
  "s16",
  "s32",
  "s64",
  "s128",
  "struct",
  "u8",
  "u16",
  "u32",
  "u64",
  "u128",
  "union",
] as const;
type LibraryName = (typeof LIBRARY)[number];
const TYPE_ONLY: ReadonlySet<LibraryName> = new Set([
  "Backend",
  "Codec",
  "CollectionSpec",
  "LoadedCollection",
  "TypedCollection",
]);

/** A type as the module writes it: its TypeScript type and its codec expression. */
interface Emitted {
  readonly ts: string;
  readonly codec: string;
}

const quote = (name: string): string =>
  /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);

class Generator {
  readonly #btf: BTF;
  readonly #out: string[] = [];
  /** Name by type id, for composite and enum types already emitted. */
  readonly #names = new Map<TypeId, string>();
  /** Names taken: the library's types and the global types the module uses. */
  readonly #used = new Set<string>([
    ...LIBRARY.filter((n) => /^[A-Z]/.test(n)),
    "Pick",
    "Uint8Array",
  ]);
  readonly imports = new Set<LibraryName>();

  constructor(btf: BTF, reserved: readonly string[]) {
    this.#btf = btf;
    for (const r of reserved) this.#used.add(r);
  }

  get code(): string {
    return this.#out.join("");
  }

  /** `name` from the library, imported. */
  lib(name: LibraryName): string {
    this.imports.add(name);
    return name;
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
      case "INT": {
        if (t.bool) return { ts: "boolean", codec: `${this.lib("bool")}(${t.size})` };
        return this.#int(t.bits, t.signed, t.bitOffset, `INT ${t.name}`);
      }
      case "ENUM":
      case "ENUM64": {
        if (t.name || alias) this.#enumConst(t, t.name || (alias as string));
        const c = this.#int(t.size * 8, t.signed, 0, `enum ${t.name}`);
        if (t.kind === "ENUM64" && c.ts === "number") {
          return { ts: "bigint", codec: `${this.lib("asBigInt")}(${c.codec})` };
        }
        if (t.kind === "ENUM" && c.ts === "bigint") {
          // An 8-byte ENUM still holds 32-bit values: a number.
          return { ts: "number", codec: `${this.lib("asNumber")}(${c.codec})` };
        }
        return c;
      }
      case "PTR":
        return { ts: "bigint", codec: this.lib("u64") };
      case "FLOAT":
        if (t.size === 4) return { ts: "number", codec: this.lib("f32") };
        if (t.size === 8) return { ts: "number", codec: this.lib("f64") };
        return { ts: "Uint8Array", codec: `${this.lib("bytes")}(${t.size})` };
      case "ARRAY": {
        if (isCharElement(this.#btf, t)) {
          return { ts: "string", codec: `${this.lib("chars")}(${t.nelems})` };
        }
        const elem = this.emit(t.type, hint);
        return {
          ts: `${/[ |]/.test(elem.ts) ? `(${elem.ts})` : elem.ts}[]`,
          codec: `${this.lib("array")}(${elem.codec}, ${t.nelems})`,
        };
      }
      case "STRUCT":
      case "UNION": {
        const name = this.#composite(t, t.name || alias || hint);
        return { ts: name, codec: name };
      }
      default:
        throw new GenTypesError(
          `type [${t.id}] (${t.kind}${t.name ? ` ${t.name}` : ""}) has no TypeScript value`,
        );
    }
  }

  /** An integer of `bits` bits at `shift` (whole-byte sizes get their own codec). */
  #int(bits: number, signed: boolean, shift: number, what: string): Emitted {
    if (shift > 7) throw new GenTypesError(`${what}: a bit offset of ${shift} is not supported`);
    if (!shift && [8, 16, 32, 64, 128].includes(bits)) {
      const name = `${signed ? "s" : "u"}${bits}` as LibraryName;
      return { ts: bits > 32 ? "bigint" : "number", codec: this.lib(name) };
    }
    return this.#bits(shift, bits, signed, false);
  }

  #bits(shift: number, width: number, signed: boolean, bool: boolean): Emitted {
    if (bool) return { ts: "boolean", codec: `${this.lib("boolBits")}(${shift}, ${width})` };
    const big = width > 32;
    const fn = this.lib(big ? "bigBits" : "bits");
    return {
      ts: big ? "bigint" : "number",
      codec: `${fn}(${shift}, ${width}${signed ? ", true" : ""})`,
    };
  }

  #enumConst(t: BTFType & { kind: "ENUM" | "ENUM64" }, cname: string): string {
    const known = this.#names.get(t.id);
    if (known) return known;
    const name = this.#unique(pascalCase(cname));
    this.#names.set(t.id, name);
    const big = t.kind === "ENUM64";
    const lines = t.values
      .map((e) => `  ${quote(e.name)}: ${e.value}${big ? "n" : ""},\n`)
      .join("");
    this.#out.push(`/** \`enum ${cname}\`. */\nexport const ${name} = {\n${lines}} as const;\n\n`);
    return name;
  }

  /** Emits `interface NAME` and its codec; returns NAME. */
  #composite(t: CompositeType, cname: string): string {
    const known = this.#names.get(t.id);
    if (known) return known;
    const name = this.#unique(pascalCase(cname));
    this.#names.set(t.id, name);
    const fields: string[] = [];
    // Members first: the types they use are declared before this one.
    const body = this.#members(t, name, fields, false, "  ");
    const kw = t.kind === "UNION" ? "union" : "struct";
    this.#out.push(
      `/** \`${kw} ${t.name || cname}\` (${t.size} bytes). */\n` +
        `export interface ${name} {\n${fields.map((f) => `  ${f};\n`).join("")}}\n\n` +
        `/** Codec of {@link ${name}}. */\n` +
        `export const ${name} = ${this.lib(kw)}<${name}>(${JSON.stringify(t.name)}, ${t.size}, {\n` +
        `${body}});\n\n`,
    );
    return name;
  }

  /**
   * The member declarations of `t` (one per line, indented by `ind`), pushing the
   * interface fields (`name?: type`) to `fields`; anonymous struct/union members
   * become `"...N"` entries whose fields are the owner's (optional when they are
   * union alternatives).
   */
  #members(
    t: CompositeType,
    owner: string,
    fields: string[],
    optional: boolean,
    ind: string,
  ): string {
    const opt = optional || t.kind === "UNION";
    let out = "";
    let anon = 0;
    for (const m of t.members) {
      const off = m.bitOffset >> 3;
      const inner = this.#resolve(m.type).t;
      if (m.name === "" && (inner.kind === "STRUCT" || inner.kind === "UNION")) {
        const sub: string[] = [];
        const body = this.#members(inner, owner, sub, opt, `${ind}    `);
        fields.push(...sub);
        const keys = sub.map((f) => JSON.stringify(/^(\w+)/.exec(f)?.[1] as string)).join(" | ");
        const kw = this.lib(inner.kind === "UNION" ? "union" : "struct");
        out +=
          `${ind}"...${anon++}": [\n${ind}  ${off},\n` +
          `${ind}  ${kw}<Pick<${owner}, ${keys || "never"}>>(${JSON.stringify(inner.name)}, ${inner.size}, {\n` +
          `${body}${ind}  }),\n${ind}],\n`;
        continue;
      }
      if (m.name === "") continue; // a nameless bitfield: padding
      const c = this.#member(m.type, m.bitOffset, m.bitfieldSize, pascalCase(`${owner}_${m.name}`));
      fields.push(`${m.name}${opt ? "?" : ""}: ${c.ts}`);
      out += `${ind}${quote(m.name)}: [${off}, ${c.codec}],\n`;
    }
    return out;
  }

  /** A member's codec: bitfields and non-byte-aligned INTs as bit ranges. */
  #member(type: TypeId, bitOffset: number, bitfieldSize: number, hint: string): Emitted {
    const shift = bitOffset & 7;
    const target = this.#resolve(type).t;
    const isInt = target.kind === "INT";
    const width =
      bitfieldSize ||
      (shift && isInt ? target.bits : 0) ||
      (isInt && target.bits % 8 ? target.bits : 0);
    if (!width) return this.emit(type, hint);
    if (target.kind === "ENUM" || target.kind === "ENUM64") this.emit(type, hint); // its const
    const signed = (isInt || target.kind === "ENUM") && (target as { signed: boolean }).signed;
    return this.#bits(shift, width, signed, isInt && target.bool);
  }

  /**
   * A named codec for a root type (map key/value, variable, `type NAME`): returns its
   * name. Structs and unions are their own; other types get `type NAME = ...` and a
   * codec const.
   */
  root(id: TypeId, name: string): string {
    const { t } = this.#resolve(id);
    if (t.kind === "STRUCT" || t.kind === "UNION") return this.emit(id, name).ts;
    const c = this.emit(id, name);
    const codec = this.#unique(name);
    this.#out.push(
      `/** \`${describe(this.#btf, id)}\`. */\n` +
        `export type ${codec} = ${c.ts};\n` +
        `/** Codec of {@link ${codec}}. */\n` +
        `export const ${codec}: ${this.lib("Codec")}<${codec}> = ${c.codec};\n\n`,
    );
    return codec;
  }

  /** `type NAME`: a struct, union, enum or typedef by its C name. */
  named(cname: string, what: string): void {
    const all = this.#btf.findAllByName(cname);
    const t =
      all.find((x) => x.kind === "STRUCT" || x.kind === "UNION") ??
      all.find((x) => x.kind === "ENUM" || x.kind === "ENUM64") ??
      all.find((x) => x.kind === "TYPEDEF");
    if (!t) {
      const fwd = all.find((x) => x.kind === "FWD");
      throw new GenTypesError(
        fwd
          ? `type "${cname}" is only declared in ${what} (a forward declaration, no members)`
          : `no struct, union, enum or typedef named "${cname}" in ${what}`,
      );
    }
    try {
      this.#named(cname, t);
    } catch (e) {
      if (e instanceof GenTypesError) throw new GenTypesError(`type "${cname}": ${e.message}`);
      throw e;
    }
  }

  #named(cname: string, t: BTFType): void {
    const want = pascalCase(cname);
    if (t.kind === "ENUM" || t.kind === "ENUM64") {
      this.#enumConst(t, cname);
      this.root(t.id, `${want}Codec`);
      return;
    }
    const got = this.root(t.id, want);
    if (got !== want && t.kind === "TYPEDEF" && !this.#used.has(want)) {
      // `typedef struct event event_t`: EventT names the struct too.
      this.#used.add(want);
      this.#out.push(
        `/** \`${cname}\`: {@link ${got}}. */\nexport type ${want} = ${got};\n` +
          `/** Codec of {@link ${want}}. */\nexport const ${want} = ${got};\n\n`,
      );
    }
  }
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

/** `BtfValues` → `btfValues` (for `btfValuesNames`, `btfValuesConstants`). */
function camel(base: string): string {
  return base[0]?.toLowerCase() + base.slice(1);
}

/**
 * The TypeScript module for `spec`.
 *
 * @throws {GenTypesError} when the object has no BTF, a type has no TypeScript form,
 *   or a name of `opts.types` is not in the BTF
 */
export function generateTypes(spec: CollectionSpec, opts: GenTypesOptions): string {
  const btf = spec.btf;
  if (!btf) throw new GenTypesError("the object has no BTF (.BTF section): compile it with -g");
  const base = pascalCase(opts.name);
  const names = {
    obj: `${base}Object`,
    constants: `${base}Constants`,
    loadOptions: `${base}LoadOptions`,
    encode: `${camel(base)}Constants`,
    maps: `${base}Maps`,
    programs: `${base}Programs`,
    variables: `${base}Variables`,
    coll: `${base}Collection`,
    mapName: `${base}MapName`,
    progName: `${base}ProgramName`,
    varName: `${base}VariableName`,
    list: `${camel(base)}Names`,
    load: `load${base}`,
    bind: `bind${base}`,
  };
  const g = new Generator(btf, Object.values(names));
  for (const t of opts.types ?? []) g.named(t, `the object's BTF`);

  const C = "C";
  const mapLines: string[] = [];
  const mapInit: string[] = [];
  for (const m of Object.values(spec.maps)) {
    const key = m.btfKeyTypeId ?? 0;
    const value = m.btfValueTypeId ?? 0;
    const typed = key && value && (KEY_VALUE_TYPES.has(m.type) || PER_CPU_TYPES.has(m.type));
    const prop = quote(m.name);
    const raw = `${C}["maps"][${JSON.stringify(m.name)}]`;
    const access = /^[A-Za-z_$][\w$]*$/.test(m.name)
      ? `c.maps.${m.name}`
      : `c.maps[${JSON.stringify(m.name)}]`;
    const kind = mapTypeName(m.type) ?? `type ${m.type}`;
    if (typed) {
      const kc = g.root(key, `${pascalCase(m.name)}Key`);
      const vc = g.root(value, `${pascalCase(m.name)}Value`);
      const cls = g.lib(PER_CPU_TYPES.has(m.type) ? "TypedPerCpuMap" : "TypedMap");
      mapLines.push(
        `  /** \`${m.name}\` (${kind}): ${kc} → ${vc}. */\n  readonly ${prop}: ${cls}<${kc}, ${vc}, ${raw}>;\n`,
      );
      mapInit.push(`      ${prop}: new ${cls}(${access}, ${kc}, ${vc}),\n`);
    } else {
      mapLines.push(`  /** \`${m.name}\` (${kind}). */\n  readonly ${prop}: ${raw};\n`);
      mapInit.push(`      ${prop}: ${access},\n`);
    }
  }
  const varLines: string[] = [];
  const varInit: string[] = [];
  const constLines: string[] = [];
  const constCodecs: string[] = [];
  const varNames: string[] = [];
  for (const v of Object.values(spec.variables)) {
    if (!v.typeId) continue;
    varNames.push(v.name);
    const codec = g.root(v.typeId, `${pascalCase(v.name)}Var`);
    const prop = quote(v.name);
    const cls = g.lib("TypedVariable");
    const access = /^[A-Za-z_$][\w$]*$/.test(v.name)
      ? `c.variables.${v.name}`
      : `c.variables[${JSON.stringify(v.name)}]`;
    varLines.push(
      `  /** \`${v.name}\` in ${v.map}${v.readOnly ? " (read-only once loaded)" : ""}. */\n` +
        `  readonly ${prop}: ${cls}<${codec}, ${C}["variables"][${JSON.stringify(v.name)}]>;\n`,
    );
    varInit.push(`      ${prop}: new ${cls}(${access}, ${codec}),\n`);
    if (v.readOnly && v.map.startsWith(".rodata") && v.linkage !== "extern") {
      constLines.push(`  /** \`${v.name}\` in ${v.map}. */\n  readonly ${prop}?: ${codec};\n`);
      constCodecs.push(`${prop}: ${codec}`);
    }
  }
  const progs = Object.keys(spec.programs);
  const progLines = progs.map(
    (p) => `  /** \`${p}\`. */\n  readonly ${quote(p)}: ${C}["programs"][${JSON.stringify(p)}];\n`,
  );
  const progInit = progs.map(
    (p) =>
      `      ${quote(p)}: ${/^[A-Za-z_$][\w$]*$/.test(p) ? `c.programs.${p}` : `c.programs[${JSON.stringify(p)}]`},\n`,
  );
  const mapNames = Object.keys(spec.maps);
  const list = (xs: readonly string[]) =>
    xs.length ? `[${xs.map((x) => JSON.stringify(x)).join(", ")}]` : "[]";
  for (const n of [
    "Backend",
    "CollectionSpec",
    "LoadedCollection",
    "TypedCollection",
    "typedCollection",
    "encodeConstants",
  ] as const) {
    g.lib(n);
  }
  const imports = LIBRARY.filter((n) => g.imports.has(n))
    .map((n) => (TYPE_ONLY.has(n) ? `type ${n}` : n))
    .sort((a, b) => a.replace(/^type /, "").localeCompare(b.replace(/^type /, "")))
    .map((n) => `  ${n},\n`)
    .join("");
  const module = opts.module ?? "tsbpf/spec";
  const { coll } = names;
  // A type parameter only where it is used (a module checked with noUnusedParameters).
  const mapsOf = mapLines.length ? `${names.maps}<${C}>` : names.maps;
  const varsOf = varLines.length ? `${names.variables}<${C}>` : names.variables;
  const progsOf = progLines.length ? `${names.programs}<${C}>` : names.programs;
  const anything = mapLines.length + progLines.length + varLines.length > 0;
  const param = `<${C} extends ${coll} = ${coll}>`;
  return (
    "/**\n" +
    ` * Types, codecs and a loader for the BPF object "${opts.name}".\n` +
    " *\n" +
    ` * @generated by \`${opts.command ?? "tsbpf gen types"}\`: do not edit, regenerate.\n` +
    " * @module\n" +
    " */\n" +
    "// biome-ignore-all lint: generated code\n" +
    `import {\n${imports}} from ${JSON.stringify(module)};\n\n` +
    g.code +
    `/** The names of ${opts.name}'s maps, programs and global variables. */\n` +
    `export const ${names.list} = {\n  maps: ${list(mapNames)},\n  programs: ${list(progs)},\n  variables: ${list(varNames)},\n} as const;\n\n` +
    `/** Map names of ${opts.name}. */\nexport type ${names.mapName} = (typeof ${names.list}.maps)[number];\n` +
    `/** Program names of ${opts.name}. */\nexport type ${names.progName} = (typeof ${names.list}.programs)[number];\n` +
    `/** Global variable names of ${opts.name}. */\nexport type ${names.varName} = (typeof ${names.list}.variables)[number];\n\n` +
    `/** ${opts.name} loaded by either backend. */\n` +
    `export type ${coll} = LoadedCollection<${names.mapName}, ${names.progName}, ${names.varName}>;\n\n` +
    `/** The maps of ${opts.name}, typed by their BTF key and value types (\`${C}\`: the collection's own type). */\n` +
    `export interface ${mapLines.length ? `${names.maps}${param}` : names.maps} {\n${mapLines.join("")}}\n\n` +
    `/** The programs of ${opts.name} (\`${C}\`: the collection's own type). */\n` +
    `export interface ${progLines.length ? `${names.programs}${param}` : names.programs} {\n${progLines.join("")}}\n\n` +
    `/** The global variables of ${opts.name}, typed by their BTF types. */\n` +
    `export interface ${varLines.length ? `${names.variables}${param}` : names.variables} {\n${varLines.join("")}}\n\n` +
    `/** ${opts.name} with typed maps and variables; \`${C}\` is the backend's collection. */\n` +
    `export type ${names.obj}${param} = TypedCollection<${C}, ${mapsOf}, ${progsOf}, ${varsOf}>;\n\n` +
    `/** Values of ${opts.name}'s \`const volatile\` (.rodata) variables, set before loading. */\n` +
    `export interface ${names.constants} {\n${constLines.join("")}}\n\n` +
    `/** The \`constants\` load option (any backend's) from typed values, through their codecs. */\n` +
    `export function ${names.encode}(values: ${names.constants}): Record<string, Uint8Array> {\n` +
    `  return encodeConstants(values, ${constCodecs.length ? `{ ${constCodecs.join(", ")} }` : "{}"});\n}\n\n` +
    `/** Options of {@link ${names.load}}. */\n` +
    `export interface ${names.loadOptions} {\n  /** Values of \`const volatile\` variables. */\n  readonly constants?: ${names.constants};\n}\n\n` +
    `/**\n * Loads ${opts.name} with \`backend\` (\`kernelBackend\` from "tsbpf/kernel", \`vmBackend\` from\n` +
    ` * "tsbpf/vm"); the caller reads the object (\`loadCollectionSpec(bytes)\`, "tsbpf/elf").\n *\n` +
    ` * @example\n * \`\`\`ts\n * using obj = ${names.load}(vmBackend, loadCollectionSpec(bytes));\n * \`\`\`\n */\n` +
    `export function ${names.load}(\n  backend: Backend,\n  spec: CollectionSpec,\n  opts: ${names.loadOptions} = {},\n): ${names.obj} {\n` +
    `  const constants = ${names.encode}(opts.constants ?? {});\n` +
    `  return ${names.bind}(backend.load<${names.mapName}, ${names.progName}, ${names.varName}>(spec, { constants }));\n}\n\n` +
    `/**\n * Types a collection of ${opts.name} already loaded, keeping its backend's own classes\n` +
    " * (the kernel's BpfMap and Program for readers and attach, the VM's maps); closes it if\n" +
    " * it lacks a name or a size differs.\n *\n" +
    ` * @example\n * \`\`\`ts\n * using obj = ${names.bind}(Collection.load(spec));\n * \`\`\`\n */\n` +
    `export function ${names.bind}<${C} extends ${coll}>(collection: ${C}): ${names.obj}<${C}> {\n` +
    `  return typedCollection(collection, ${names.list}, (${anything ? "c" : ""}) => ({\n` +
    `    maps: {\n${mapInit.join("")}    },\n` +
    `    programs: {\n${progInit.join("")}    },\n` +
    `    variables: {\n${varInit.join("")}    },\n` +
    "  }));\n}\n"
  );
}
