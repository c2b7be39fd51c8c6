/**
 * A verifier case: one BPF program as data, with the maps it refers to, so a program
 * can be judged by the kernel (`kernelVerdict` in src/kernel) and by tsbpf's verifier
 * without building an ELF object (issue 11, item 4). The JSON form:
 *
 * ```json
 * {
 *   "prog_type": "xdp",
 *   "insns": "b700000002000000 9500000000000000",
 *   "maps": [{ "type": "hash", "key_size": 4, "value_size": 8, "max_entries": 16 }],
 *   "expected_attach_type": "cgroup_inet_ingress",
 *   "prog_flags": 0,
 *   "funcs": [{ "insn_off": 0, "linkage": "global" }],
 *   "license": "GPL"
 * }
 * ```
 *
 * - `insns`: the raw instructions (8 bytes each, little-endian) in hex; spaces, newlines
 *   and `0x` prefixes are ignored.
 * - An `lddw` with src_reg 1 (BPF_PSEUDO_MAP_FD) or 2 (BPF_PSEUDO_MAP_VALUE) and imm `i`
 *   refers to `maps[i]`; a loader writes the map's fd in its place.
 * - `maps[i]`: `type` (bpftool's name: `hash`, `array`, `percpu_hash`, ...), `key_size`,
 *   `value_size`, `max_entries`, optional `flags`, `name`, `inner_map` (a map of the
 *   same form, for map-in-map types) and `spin_lock_off` (the value holds a
 *   `struct bpf_spin_lock` at that byte offset, described by BTF).
 * - `expected_attach_type`: libbpf's attach type name (`cgroup_inet_ingress`).
 * - `prog_flags`: BPF_F_* load flags, a number or a list of names (`"ANY_ALIGNMENT"`,
 *   with or without `BPF_F_`).
 * - `funcs`: func_info records over a minimal BTF where every function is
 *   `int f(void)`, or returns void with `"ret": "void"`, or takes `args` int parameters:
 *   `[{ "insn_off": n, "linkage": "static" | "global", "ret": "int" | "void", "args": n }]`.
 * - `license` (default "GPL") and `name` (default "case") are optional.
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { BTFType } from "../btf/types.ts";
import type { MapSpec } from "../spec/map-spec.ts";
import {
  AttachType,
  attachTypeName,
  INSN_SIZE,
  MapType,
  mapTypeName,
  ProgLoadFlags,
  ProgType,
  progTypeName,
} from "../uapi/index.ts";

/** `src_reg` of an `lddw` whose imm is a map (BPF_PSEUDO_MAP_FD). */
export const PSEUDO_MAP_FD = 1;
/** `src_reg` of an `lddw` whose imm is a map and whose second imm an offset in its value. */
export const PSEUDO_MAP_VALUE = 2;
/** The `lddw` opcode (BPF_LD | BPF_IMM | BPF_DW). */
const LDDW = 0x18;
/** The most instructions a case may hold (the kernel's limit for privileged loaders). */
export const MAX_CASE_INSNS = 1_000_000;
/** The most maps a case may hold (the kernel's MAX_USED_MAPS). */
export const MAX_CASE_MAPS = 64;
/** Size of `struct bpf_spin_lock`. */
export const SPIN_LOCK_SIZE = 4;

/** A function of the case's minimal BTF: `int f(void)` starting at `insnOff`. */
export interface CaseFunc {
  /** Index of the function's first instruction (8-byte slots). */
  readonly insnOff: number;
  /** BTF linkage: a global function is verified on its own, a static one with its caller. */
  readonly linkage: "static" | "global";
  /** What the function returns in its BTF prototype: `int` (the default) or `void`. */
  readonly ret?: "int" | "void";
  /** How many `int` parameters its prototype declares (default 0). */
  readonly args?: number;
}

/** A map of a case: what to create, and where its value holds a spin lock. */
export interface CaseMap {
  /** The map (its name is `name` from the JSON, or `m<i>`). */
  readonly spec: MapSpec;
  /** Byte offset of a `struct bpf_spin_lock` in the value, described by BTF. */
  readonly spinLockOff?: number;
}

/** One program as data: see the module's description for the JSON form. */
export interface VerifierCase {
  /** A name for messages and the kernel's prog_name (default "case"). */
  readonly name: string;
  /** `enum bpf_prog_type`. */
  readonly progType: ProgType;
  /** `expected_attach_type`, when given. */
  readonly expectedAttachType?: AttachType;
  /** `prog_flags` (BPF_F_* bits; 0 when not given). */
  readonly progFlags: number;
  /** The licence (default "GPL"). */
  readonly license: string;
  /** Raw instructions, 8 bytes each; map references still hold map indexes. */
  readonly insns: Uint8Array;
  /** The maps `lddw` instructions refer to by index. */
  readonly maps: readonly CaseMap[];
  /** func_info records (empty: the program loads without BTF function info). */
  readonly funcs: readonly CaseFunc[];
}

/**
 * A case the JSON does not describe properly. `field` is the path of the offending
 * field (`maps[2].type`, `insns`), `source` the file name used in the message.
 *
 * @example
 * ```ts
 * try {
 *   parseCase('{"prog_type": "xdp", "insns": "", "maps": [{"type": "hashh"}]}');
 * } catch (e) {
 *   if (e instanceof CaseError) console.error(e.message);
 *   // case.json: maps[0].type: "hashh" is not a map type
 * }
 * ```
 */
export class CaseError extends Error {
  override readonly name: string = "CaseError";
  /** The field at fault (a JSON path such as `maps[2].key_size`), or "" for the whole case. */
  readonly field: string;
  /** The file (or label) the case came from. */
  readonly source: string;

  constructor(source: string, field: string, reason: string) {
    super(`${source}: ${field ? `${field}: ` : ""}${reason}`);
    this.source = source;
    this.field = field;
  }
}

/** Options of {@link parseCase}. */
export interface ParseCaseOptions {
  /** The name used in error messages (default "case.json"). */
  readonly source?: string;
}

/** The longest case text {@link parseCase} reads: 32 MiB (1M instructions in hex and then some). */
export const MAX_CASE_TEXT = 32 * 1024 * 1024;

type Json = unknown;
type Obj = Record<string, Json>;

const TOP_FIELDS = new Set([
  "prog_type",
  "insns",
  "maps",
  "expected_attach_type",
  "prog_flags",
  "funcs",
  "license",
  "name",
]);
const MAP_FIELDS = new Set([
  "type",
  "key_size",
  "value_size",
  "max_entries",
  "flags",
  "name",
  "inner_map",
  "spin_lock_off",
]);
const FUNC_FIELDS = new Set(["insn_off", "linkage", "ret", "args"]);

function byName(values: Readonly<Record<string, number>>, name: (v: number) => string | undefined) {
  const m = new Map<string, number>();
  for (const v of Object.values(values)) {
    const n = name(v);
    if (n !== undefined && !m.has(n)) m.set(n, v);
  }
  return m;
}

let progTypes: Map<string, number> | undefined;
let mapTypes: Map<string, number> | undefined;
let attachTypes: Map<string, number> | undefined;

/**
 * Reads a case from its JSON text (or an already parsed JSON value) and checks every
 * field. Semantics (whether the program is valid, whether func_info matches its
 * subprograms, whether a map type takes a spin lock) are for the verifier to judge;
 * this checks only that the case can be built: known names, integer ranges, whole
 * instructions in hex, and map references within `maps`.
 *
 * @throws {CaseError} naming the field and why
 * @example
 * ```ts
 * const c = parseCase('{"prog_type": "socket_filter", "insns": "b700000000000000 9500000000000000"}');
 * c.insns.length; // 16
 * ```
 */
export function parseCase(input: string | Json, opts: ParseCaseOptions = {}): VerifierCase {
  const source = opts.source ?? "case.json";
  const fail = (field: string, reason: string): never => {
    throw new CaseError(source, field, reason);
  };
  let root: Json = input;
  if (typeof input === "string") {
    if (input.length > MAX_CASE_TEXT) {
      fail("", `${input.length} characters is more than a case may hold (${MAX_CASE_TEXT})`);
    }
    try {
      root = JSON.parse(input);
    } catch (e) {
      fail("", `not JSON: ${(e as Error).message}`);
    }
  }
  const top = object(root, "", fail, TOP_FIELDS);

  progTypes ??= byName(ProgType, progTypeName);
  const progType = enumValue(top.prog_type, "prog_type", progTypes, "a program type", fail);
  if (progType === undefined) fail("prog_type", "is required");
  if (progType === 0) fail("prog_type", "unspec (0) is not a program type that loads");

  let expectedAttachType: AttachType | undefined;
  if (top.expected_attach_type !== undefined) {
    attachTypes ??= byName(AttachType, attachTypeName);
    expectedAttachType = enumValue(
      top.expected_attach_type,
      "expected_attach_type",
      attachTypes,
      "an attach type",
      fail,
    ) as AttachType;
  }

  const progFlags = flagsValue(top.prog_flags, fail);
  const license = top.license === undefined ? "GPL" : string(top.license, "license", fail);
  if (license.includes("\0")) fail("license", "must not contain NUL characters");
  const name = top.name === undefined ? "case" : string(top.name, "name", fail);

  if (top.insns === undefined) fail("insns", "is required");
  const insns = hexBytes(string(top.insns, "insns", fail), fail);

  const mapsJson = top.maps === undefined ? [] : array(top.maps, "maps", fail);
  if (mapsJson.length > MAX_CASE_MAPS) {
    fail("maps", `${mapsJson.length} maps is more than a program may use (${MAX_CASE_MAPS})`);
  }
  const maps = mapsJson.map((m, i) => caseMap(m, `maps[${i}]`, `m${i}`, fail, true));

  const funcsJson = top.funcs === undefined ? [] : array(top.funcs, "funcs", fail);
  const count = insns.length / INSN_SIZE;
  const funcs = funcsJson.map((f, i): CaseFunc => {
    const where = `funcs[${i}]`;
    const o = object(f, where, fail, FUNC_FIELDS);
    if (o.insn_off === undefined) fail(`${where}.insn_off`, "is required");
    const insnOff = u32(o.insn_off, `${where}.insn_off`, fail);
    if (insnOff >= count) {
      fail(`${where}.insn_off`, `${insnOff} is past the last instruction (${count - 1})`);
    }
    const linkage =
      o.linkage === undefined ? "static" : string(o.linkage, `${where}.linkage`, fail);
    if (linkage !== "static" && linkage !== "global") {
      fail(`${where}.linkage`, `${JSON.stringify(linkage)} is neither "static" nor "global"`);
    }
    const ret = o.ret === undefined ? "int" : string(o.ret, `${where}.ret`, fail);
    if (ret !== "int" && ret !== "void") {
      fail(`${where}.ret`, `${JSON.stringify(ret)} is neither "int" nor "void"`);
    }
    const args = o.args === undefined ? 0 : u32(o.args, `${where}.args`, fail);
    if (args > 5) fail(`${where}.args`, `${args} is more than the 5 argument registers`);
    return {
      insnOff,
      linkage: linkage as "static" | "global",
      ...(ret === "void" ? { ret: "void" as const } : {}),
      ...(args > 0 ? { args } : {}),
    };
  });

  checkMapReferences(insns, maps.length, fail);
  return {
    name,
    progType: progType as ProgType,
    ...(expectedAttachType !== undefined ? { expectedAttachType } : {}),
    progFlags,
    license,
    insns,
    maps,
    funcs,
  };
}

function caseMap(
  json: Json,
  where: string,
  defaultName: string,
  fail: (f: string, r: string) => never,
  outer: boolean,
): CaseMap {
  const o = object(json, where, fail, MAP_FIELDS);
  mapTypes ??= byName(MapType, mapTypeName);
  const type = enumValue(o.type, `${where}.type`, mapTypes, "a map type", fail);
  if (type === undefined) fail(`${where}.type`, "is required");
  if (type === 0) fail(`${where}.type`, "unspec (0) is not a map type that can be created");
  const size = (k: string): number =>
    o[k] === undefined ? fail(`${where}.${k}`, "is required") : u32(o[k], `${where}.${k}`, fail);
  const keySize = size("key_size");
  const valueSize = size("value_size");
  const maxEntries = size("max_entries");
  const flags = o.flags === undefined ? 0 : u32(o.flags, `${where}.flags`, fail);
  const name = o.name === undefined ? defaultName : string(o.name, `${where}.name`, fail);
  let innerMap: MapSpec | undefined;
  if (o.inner_map !== undefined) {
    if (!outer) fail(`${where}.inner_map`, "an inner map cannot hold maps itself here");
    innerMap = caseMap(o.inner_map, `${where}.inner_map`, `${name}_inner`, fail, false).spec;
  }
  let spinLockOff: number | undefined;
  if (o.spin_lock_off !== undefined) {
    spinLockOff = u32(o.spin_lock_off, `${where}.spin_lock_off`, fail);
    if (spinLockOff % SPIN_LOCK_SIZE !== 0) {
      fail(`${where}.spin_lock_off`, `${spinLockOff} is not a multiple of ${SPIN_LOCK_SIZE}`);
    }
    if (spinLockOff + SPIN_LOCK_SIZE > valueSize) {
      fail(
        `${where}.spin_lock_off`,
        `a ${SPIN_LOCK_SIZE}-byte lock at ${spinLockOff} does not fit in a ${valueSize}-byte value`,
      );
    }
  }
  const spec: MapSpec = {
    name,
    type: type as MapType,
    keySize,
    valueSize,
    maxEntries,
    flags,
    ...(innerMap ? { innerMap } : {}),
  };
  return spinLockOff === undefined ? { spec } : { spec, spinLockOff };
}

/** Every `lddw` map reference must name one of the case's maps. */
function checkMapReferences(
  insns: Uint8Array,
  mapCount: number,
  fail: (f: string, r: string) => never,
): void {
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const count = insns.length / INSN_SIZE;
  for (let i = 0; i < count; i++) {
    const at = i * INSN_SIZE;
    if (view.getUint8(at) !== LDDW) continue;
    const src = view.getUint8(at + 1) >> 4;
    if (src === PSEUDO_MAP_FD || src === PSEUDO_MAP_VALUE) {
      const idx = view.getUint32(at + 4, true);
      if (idx >= mapCount) {
        fail(
          `insns[${i}]`,
          `lddw with src_reg ${src} refers to maps[${idx}], but the case has ${mapCount} map${mapCount === 1 ? "" : "s"}`,
        );
      }
    }
    i++; // the second half of lddw
  }
}

function object(
  v: Json,
  where: string,
  fail: (f: string, r: string) => never,
  fields: ReadonlySet<string>,
): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    fail(where, `must be an object, not ${describe(v)}`);
  }
  const o = v as Obj;
  for (const k of Object.keys(o)) {
    if (!fields.has(k)) {
      fail(
        where ? `${where}.${k}` : k,
        `unknown field (expected one of ${[...fields].join(", ")})`,
      );
    }
  }
  return o;
}

function array(v: Json, where: string, fail: (f: string, r: string) => never): Json[] {
  if (!Array.isArray(v)) fail(where, `must be an array, not ${describe(v)}`);
  return v as Json[];
}

function string(v: Json, where: string, fail: (f: string, r: string) => never): string {
  if (typeof v !== "string") fail(where, `must be a string, not ${describe(v)}`);
  return v as string;
}

function u32(v: Json, where: string, fail: (f: string, r: string) => never): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    fail(where, `${describe(v)} is not an integer in 0..4294967295`);
  }
  return v as number;
}

/** A name from `names`, or a number (any u32, so cases can name types tsbpf lacks). */
function enumValue(
  v: Json,
  where: string,
  names: ReadonlyMap<string, number>,
  what: string,
  fail: (f: string, r: string) => never,
): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "number") return u32(v, where, fail);
  if (typeof v !== "string") fail(where, `must be a name or a number, not ${describe(v)}`);
  const n = names.get(v as string);
  if (n === undefined) fail(where, `${JSON.stringify(v)} is not ${what}`);
  return n;
}

function flagsValue(v: Json, fail: (f: string, r: string) => never): number {
  if (v === undefined) return 0;
  if (typeof v === "number") return u32(v, "prog_flags", fail);
  const list = array(v, "prog_flags", fail);
  let flags = 0;
  list.forEach((f, i) => {
    const where = `prog_flags[${i}]`;
    const name = string(f, where, fail).replace(/^BPF_F_/, "");
    const bit = (ProgLoadFlags as Record<string, number>)[name];
    if (bit === undefined) {
      fail(
        where,
        `${JSON.stringify(f)} is not a load flag (${Object.keys(ProgLoadFlags).join(", ")})`,
      );
    }
    flags |= bit as number;
  });
  return flags >>> 0;
}

function hexBytes(text: string, fail: (f: string, r: string) => never): Uint8Array {
  const hex = text.replace(/0x/gi, "").replace(/[\s,]+/g, "");
  const bad = /[^0-9a-fA-F]/.exec(hex);
  if (bad) fail("insns", `${JSON.stringify(bad[0])} is not a hex digit`);
  if (hex.length === 0) fail("insns", "the program has no instructions");
  if (hex.length % (2 * INSN_SIZE) !== 0) {
    fail(
      "insns",
      `${hex.length} hex digits is not a whole number of instructions (${2 * INSN_SIZE} digits each)`,
    );
  }
  if (hex.length / (2 * INSN_SIZE) > MAX_CASE_INSNS) {
    fail("insns", `${hex.length / (2 * INSN_SIZE)} instructions exceed ${MAX_CASE_INSNS}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function describe(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === "number") return String(v);
  return `a ${typeof v}`;
}

/**
 * The case as JSON text, the form {@link parseCase} reads (names where tsbpf knows
 * them, numbers otherwise; instructions one per group of 16 hex digits).
 *
 * @example
 * ```ts
 * parseCase(formatCase(c)); // a case equal to c
 * ```
 */
export function formatCase(c: VerifierCase): string {
  const hex: string[] = [];
  for (let i = 0; i < c.insns.length; i += INSN_SIZE) {
    let s = "";
    for (let j = i; j < i + INSN_SIZE; j++)
      s += (c.insns[j] as number).toString(16).padStart(2, "0");
    hex.push(s);
  }
  const mapJson = (m: MapSpec, spinLockOff?: number): Obj => ({
    type: mapTypeName(m.type) ?? m.type,
    key_size: m.keySize,
    value_size: m.valueSize,
    max_entries: m.maxEntries,
    flags: m.flags ?? 0,
    name: m.name,
    ...(m.innerMap ? { inner_map: mapJson(m.innerMap) } : {}),
    ...(spinLockOff !== undefined ? { spin_lock_off: spinLockOff } : {}),
  });
  const out: Obj = {
    name: c.name,
    prog_type: progTypeName(c.progType) ?? c.progType,
    ...(c.expectedAttachType !== undefined
      ? { expected_attach_type: attachTypeName(c.expectedAttachType) ?? c.expectedAttachType }
      : {}),
    prog_flags: c.progFlags,
    license: c.license,
    insns: hex.join(" "),
    maps: c.maps.map((m) => mapJson(m.spec, m.spinLockOff)),
    funcs: c.funcs.map((f) => ({
      insn_off: f.insnOff,
      linkage: f.linkage,
      ...(f.ret === "void" ? { ret: "void" } : {}),
      ...(f.args ? { args: f.args } : {}),
    })),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** The minimal BTF of a case: types, their bytes, and what refers to them. */
export interface CaseBtf {
  /** The types (id order, from 1). */
  readonly types: readonly BTFType[];
  /** func_info records (`{ insn_off, type_id }`, 8 bytes each), when the case has funcs. */
  readonly funcInfo?: Uint8Array;
  /** Size of one func_info record (8). */
  readonly funcInfoRecordSize: number;
  /** Per map: the BTF key and value type ids, when its value holds a spin lock. */
  readonly mapTypeIds: readonly ({ key: number; value: number } | undefined)[];
}

/** Size of `struct bpf_func_info`. */
export const FUNC_INFO_RECORD_SIZE = 8;

/**
 * The minimal BTF a case needs, or undefined when it needs none (no funcs, no spin
 * locks): `int`, the prototype `int (void)` and one FUNC per func record (`f<i>`, the
 * first named after the case), and for each map with a spin lock
 * `struct bpf_spin_lock { int val; }`, a key type of `key_size` bytes (an `unsigned
 * int` for 4, else `unsigned char[key_size]`) and a value struct of `value_size` bytes
 * with the lock at `spin_lock_off`.
 */
export function caseBtf(c: VerifierCase): CaseBtf | undefined {
  const locked = c.maps.some((m) => m.spinLockOff !== undefined);
  if (c.funcs.length === 0 && !locked) return undefined;
  const types: BTFType[] = [];
  const add = <T extends BTFType>(t: Omit<T, "id">): number => {
    const id = types.length + 1;
    types.push({ ...t, id } as unknown as BTFType);
    return id;
  };
  const int = add({
    kind: "INT",
    name: "int",
    size: 4,
    signed: true,
    char: false,
    bool: false,
    bitOffset: 0,
    bits: 32,
  } as Omit<Extract<BTFType, { kind: "INT" }>, "id">);
  let funcInfo: Uint8Array | undefined;
  if (c.funcs.length > 0) {
    // One prototype per (return type, parameter count) the functions use.
    const protos = new Map<string, number>();
    const protoOf = (f: CaseFunc) => {
      const key = `${f.ret ?? "int"}/${f.args ?? 0}`;
      let id = protos.get(key);
      if (id === undefined) {
        const params = Array.from({ length: f.args ?? 0 }, (_, i) => ({
          name: `a${i}`,
          type: int,
        }));
        id = add({
          kind: "FUNC_PROTO",
          name: "",
          returnType: f.ret === "void" ? 0 : int,
          params,
        } as Omit<Extract<BTFType, { kind: "FUNC_PROTO" }>, "id">);
        protos.set(key, id);
      }
      return id;
    };
    funcInfo = new Uint8Array(c.funcs.length * FUNC_INFO_RECORD_SIZE);
    const view = new DataView(funcInfo.buffer);
    c.funcs.forEach((f, i) => {
      const name = i === 0 ? sanitizeFuncName(c.name) : `f${i}`;
      const type = protoOf(f);
      const id = add({ kind: "FUNC", name, type, linkage: f.linkage } as Omit<
        Extract<BTFType, { kind: "FUNC" }>,
        "id"
      >);
      view.setUint32(i * FUNC_INFO_RECORD_SIZE, f.insnOff, true);
      view.setUint32(i * FUNC_INFO_RECORD_SIZE + 4, id, true);
    });
  }
  const mapTypeIds: ({ key: number; value: number } | undefined)[] = c.maps.map(() => undefined);
  if (locked) {
    const lock = add({
      kind: "STRUCT",
      name: "bpf_spin_lock",
      size: SPIN_LOCK_SIZE,
      members: [{ name: "val", type: int, bitOffset: 0, bitfieldSize: 0 }],
    } as Omit<Extract<BTFType, { kind: "STRUCT" }>, "id">);
    let u32Id: number | undefined;
    let u8Id: number | undefined;
    c.maps.forEach((m, i) => {
      if (m.spinLockOff === undefined) return;
      let key: number;
      if (m.spec.keySize === 4) {
        u32Id ??= add({
          kind: "INT",
          name: "unsigned int",
          size: 4,
          signed: false,
          char: false,
          bool: false,
          bitOffset: 0,
          bits: 32,
        } as Omit<Extract<BTFType, { kind: "INT" }>, "id">);
        key = u32Id;
      } else {
        u8Id ??= add({
          kind: "INT",
          name: "unsigned char",
          size: 1,
          signed: false,
          char: false,
          bool: false,
          bitOffset: 0,
          bits: 8,
        } as Omit<Extract<BTFType, { kind: "INT" }>, "id">);
        key = add({
          kind: "ARRAY",
          name: "",
          type: u8Id,
          indexType: int,
          nelems: m.spec.keySize,
        } as Omit<Extract<BTFType, { kind: "ARRAY" }>, "id">);
      }
      const value = add({
        kind: "STRUCT",
        name: `v${i}`,
        size: m.spec.valueSize,
        members: [
          { name: "lock", type: lock, bitOffset: (m.spinLockOff as number) * 8, bitfieldSize: 0 },
        ],
      } as Omit<Extract<BTFType, { kind: "STRUCT" }>, "id">);
      mapTypeIds[i] = { key, value };
    });
  }
  return {
    types,
    ...(funcInfo ? { funcInfo } : {}),
    funcInfoRecordSize: FUNC_INFO_RECORD_SIZE,
    mapTypeIds,
  };
}

/** A C identifier from a case name (BTF FUNC names must be valid identifiers). */
function sanitizeFuncName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(s) ? s : `f_${s}`;
}

/** A verdict as {@link verdictLine} prints it. */
export interface VerdictSummary {
  readonly accepted: boolean;
  readonly errorLine?: string;
  readonly insn?: number;
}

/**
 * The one line a verifier prints for its verdict, the same for the kernel's and for
 * tsbpf's: `verified`, or the error line with its instruction (`insn 7: R0 invalid mem
 * access 'map_value_or_null'`), or only the line when it names no instruction.
 *
 * @example
 * ```ts
 * verdictLine({ accepted: false, errorLine: "R0 !read_ok", insn: 0 }); // "insn 0: R0 !read_ok"
 * ```
 */
export function verdictLine(v: VerdictSummary): string {
  if (v.accepted) return "verified";
  const line = v.errorLine ?? "rejected without a verifier message";
  return v.insn === undefined ? line : `insn ${v.insn}: ${line}`;
}
