/**
 * Maps defined in BTF (`SEC(".maps")`, libbpf's `__uint`/`__type`/`__array` macros):
 * each variable of the `.maps` DATASEC is a struct whose members encode the map's
 * definition in their types — `__uint(name, n)` is `int (*name)[n]`, `__type(name, T)`
 * is `T *name`, `__array(name, T)` is `T *name[]` — and whose initial `values` are
 * relocations in `.rel.maps`.
 *
 * @module
 */

import type { BTF, BTFType, TypeId } from "../btf/index.ts";
import { isMapInMapType, type MapContentRef, type MapSpec } from "../spec/index.ts";
import { MapType } from "../uapi/index.ts";
import { BpfReloc, SymbolType } from "./constants.ts";
import { ELFError } from "./errors.ts";
import type { ElfFile, ElfSection } from "./read-elf.ts";

/** libbpf's `LIBBPF_PIN_NONE` and `LIBBPF_PIN_BY_NAME`. */
const PIN_NONE = 0;
const PIN_BY_NAME = 1;

/** A map read from `.maps`, with where its symbol is. */
export interface ElfMap {
  readonly spec: MapSpec;
  /** Section index and offset of its symbol, for relocations that name it. */
  readonly shndx: number;
  readonly offset: number;
}

interface Ctx {
  readonly btf: BTF;
  readonly sec: ElfSection;
}

/**
 * Reads every map of the `.maps` section.
 *
 * @throws {ELFError} naming the map and member for a definition libbpf would refuse
 */
export function readBtfMaps(elf: ElfFile, sec: ElfSection, btf: BTF | undefined): ElfMap[] {
  if (btf === undefined) {
    throw new ELFError("the object defines maps in .maps but has no .BTF to describe them", {
      section: sec.name,
    });
  }
  const datasec = btf.findByName("DATASEC", sec.name);
  if (datasec === undefined) {
    throw new ELFError("no DATASEC '.maps' in the object's BTF", { section: sec.name });
  }
  const ctx: Ctx = { btf, sec };
  const symbols = elf.symbols.filter(
    (s) => s.shndx === sec.index && s.type !== SymbolType.SECTION && s.name !== "",
  );
  const maps: ElfMap[] = [];
  for (const vsi of datasec.vars) {
    const v = btf.type(vsi.type);
    if (v.kind !== "VAR") {
      throw new ELFError(`DATASEC '.maps' entry [${vsi.type}] is ${v.kind}, not a VAR`, {
        section: sec.name,
        offset: vsi.offset,
      });
    }
    const sym = symbols.find((s) => s.name === v.name);
    const offset = sym?.value ?? vsi.offset;
    const size = sym?.size || vsi.size;
    const def = readDefinition(ctx, v.name, v.type, offset);
    const refs = readInitialValues(elf, ctx, def, offset, size, maps, symbols);
    maps.push({
      spec: refs.length > 0 ? { ...def.spec, contentRefs: refs } : def.spec,
      shndx: sec.index,
      offset,
    });
  }
  return maps;
}

interface Definition {
  readonly spec: MapSpec;
  /** Byte offset of the `values` member, when there is one. */
  readonly valuesOffset?: number;
}

function fail(ctx: Ctx, map: string, what: string, offset?: number): never {
  throw new ELFError(`map '${map}': ${what}`, {
    section: ctx.sec.name,
    ...(offset !== undefined && { offset }),
  });
}

/** Reads one definition struct (`typeId` is the VAR's type or an inner map's struct). */
function readDefinition(ctx: Ctx, name: string, typeId: TypeId, offset: number): Definition {
  const { btf } = ctx;
  const st = btf.resolve(typeId);
  if (st.kind !== "STRUCT") {
    fail(ctx, name, `definition is ${st.kind}, not a struct (use __uint/__type)`, offset);
  }
  let type: number | undefined;
  let keySize: number | undefined;
  let valueSize: number | undefined;
  let maxEntries = 0;
  let flags = 0;
  let numaNode: number | undefined;
  let pinning = PIN_NONE;
  let mapExtra: bigint | undefined;
  let btfKeyTypeId: number | undefined;
  let btfValueTypeId: number | undefined;
  let inner: Definition | undefined;
  let innerIsProg = false;
  let valuesOffset: number | undefined;

  for (const m of st.members) {
    const where = `member '${m.name}'`;
    switch (m.name) {
      case "type":
        type = uintMember(ctx, name, m.name, m.type);
        break;
      case "max_entries":
        maxEntries = uintMember(ctx, name, m.name, m.type);
        break;
      case "map_flags":
        flags = uintMember(ctx, name, m.name, m.type);
        break;
      case "numa_node":
        numaNode = uintMember(ctx, name, m.name, m.type);
        break;
      case "key_size":
      case "value_size": {
        const n = uintMember(ctx, name, m.name, m.type);
        const prev = m.name === "key_size" ? keySize : valueSize;
        if (prev !== undefined && prev !== n) {
          fail(ctx, name, `${m.name} ${n} conflicts with the size of its type (${prev})`, offset);
        }
        if (m.name === "key_size") keySize = n;
        else valueSize = n;
        break;
      }
      case "pinning":
        pinning = uintMember(ctx, name, m.name, m.type);
        if (pinning !== PIN_NONE && pinning !== PIN_BY_NAME) {
          fail(ctx, name, `pinning ${pinning} is neither LIBBPF_PIN_NONE nor LIBBPF_PIN_BY_NAME`);
        }
        break;
      case "map_extra":
        mapExtra = BigInt(uintMember(ctx, name, m.name, m.type, true));
        break;
      case "key":
      case "value": {
        const target = pointee(ctx, name, m.name, m.type);
        let size: number;
        try {
          size = btf.sizeof(target);
        } catch {
          fail(ctx, name, `${where}: type [${target}] has no size`, offset);
        }
        const prev = m.name === "key" ? keySize : valueSize;
        if (prev !== undefined && prev !== size) {
          fail(
            ctx,
            name,
            `${m.name} type is ${size} bytes but ${m.name}_size says ${prev}`,
            offset,
          );
        }
        if (m.name === "key") {
          keySize = size;
          btfKeyTypeId = target;
        } else {
          valueSize = size;
          btfValueTypeId = target;
        }
        break;
      }
      case "values": {
        const arr = btf.resolve(m.type);
        if (arr.kind !== "ARRAY" || arr.nelems !== 0) {
          fail(ctx, name, `${where} must be a flexible array (__array(values, ...))`, offset);
        }
        const elemId = pointee(ctx, name, m.name, arr.type);
        const elem = btf.resolve(elemId);
        valuesOffset = m.bitOffset / 8;
        if (elem.kind === "FUNC_PROTO") innerIsProg = true;
        else if (elem.kind === "STRUCT") {
          inner = readDefinition(ctx, `${name}.inner`, elemId, offset);
          if (inner.valuesOffset !== undefined) {
            fail(ctx, name, "an inner map cannot have values of its own", offset);
          }
        } else {
          fail(ctx, name, `${where}: values must point to a map definition or a function`, offset);
        }
        break;
      }
      default:
        fail(ctx, name, `unknown field '${m.name}' in the map definition`, offset);
    }
  }
  if (type === undefined) fail(ctx, name, "has no 'type' field", offset);
  if (inner !== undefined || innerIsProg) {
    const mapInMap = isMapInMapType(type);
    if (innerIsProg && type !== MapType.PROG_ARRAY) {
      fail(ctx, name, "values of functions are only for BPF_MAP_TYPE_PROG_ARRAY", offset);
    }
    if (inner !== undefined && !mapInMap) {
      fail(ctx, name, "inner map definitions are only for maps of maps", offset);
    }
    // Slots hold fds: 4 bytes, whatever the definition said.
    if (valueSize !== undefined && valueSize !== 4) {
      fail(ctx, name, `value_size ${valueSize} must be 4 for a map with values`, offset);
    }
    valueSize = 4;
  }
  const spec: MapSpec = {
    name,
    type: type as MapType,
    keySize: keySize ?? 0,
    valueSize: valueSize ?? 0,
    maxEntries,
    ...(flags !== 0 && { flags }),
    ...(numaNode !== undefined && { numaNode }),
    ...(inner !== undefined && { innerMap: inner.spec }),
    ...(btfKeyTypeId !== undefined && { btfKeyTypeId }),
    ...(btfValueTypeId !== undefined && { btfValueTypeId }),
    ...(mapExtra !== undefined && { mapExtra }),
    ...(pinning === PIN_BY_NAME && { pinning: "byName" as const }),
  };
  return { spec, ...(valuesOffset !== undefined && { valuesOffset }) };
}

/** `int (*name)[N]` → N; also the enum form libbpf's `__ulong` uses. */
function uintMember(ctx: Ctx, map: string, member: string, typeId: TypeId, big = false): number {
  const t = ctx.btf.resolve(typeId);
  if (t.kind === "PTR") {
    const arr = ctx.btf.resolve(t.type);
    if (arr.kind === "ARRAY") return arr.nelems;
  }
  if (big && (t.kind === "ENUM" || t.kind === "ENUM64") && t.values.length > 0) {
    return Number(t.values[0]!.value);
  }
  fail(ctx, map, `member '${member}' is ${describe(t)}, expected __uint(${member}, N)`);
}

/** `T *name` → T. */
function pointee(ctx: Ctx, map: string, member: string, typeId: TypeId): TypeId {
  const t = ctx.btf.resolve(typeId);
  if (t.kind !== "PTR") {
    fail(ctx, map, `member '${member}' is ${describe(t)}, expected a pointer (__type)`);
  }
  return t.type;
}

function describe(t: BTFType): string {
  return t.name ? `${t.kind} '${t.name}'` : t.kind;
}

/** Initial `values` of a map of maps or PROG_ARRAY, from `.rel.maps`. */
function readInitialValues(
  elf: ElfFile,
  ctx: Ctx,
  def: Definition,
  offset: number,
  size: number,
  earlier: readonly ElfMap[],
  symbols: readonly { name: string; value: number }[],
): MapContentRef[] {
  const relocs = elf
    .relocationsFor(ctx.sec.index)
    .filter((r) => r.offset >= offset && r.offset < offset + size);
  if (relocs.length === 0) return [];
  const name = def.spec.name;
  if (def.valuesOffset === undefined) {
    fail(ctx, name, "has relocations but no 'values' member", relocs[0]!.offset);
  }
  const out: MapContentRef[] = [];
  for (const r of relocs) {
    if (r.type !== BpfReloc.R_BPF_64_ABS64 && r.type !== BpfReloc.R_BPF_64_64) {
      fail(ctx, name, `initial value relocation of type ${r.type} is not R_BPF_64_ABS64`, r.offset);
    }
    const rel = r.offset - offset - def.valuesOffset;
    if (rel < 0 || rel % 8 !== 0) {
      fail(ctx, name, "a relocation points inside the definition, not at a values slot", r.offset);
    }
    const key = rel / 8;
    if (key >= def.spec.maxEntries) {
      fail(ctx, name, `initial value at index ${key} is beyond max_entries ${def.spec.maxEntries}`);
    }
    const sym = r.symbol;
    let target: string;
    if (def.spec.type === MapType.PROG_ARRAY) {
      if (sym.type !== SymbolType.FUNC) {
        fail(ctx, name, `slot ${key} names '${elf.symbolName(sym)}', which is not a function`);
      }
      target = sym.name;
    } else {
      const m =
        earlier.find((x) => x.shndx === sym.shndx && x.offset === sym.value) ??
        (sym.shndx === ctx.sec.index ? symbols.find((s) => s.value === sym.value) : undefined);
      if (m === undefined || sym.shndx !== ctx.sec.index) {
        fail(ctx, name, `slot ${key} names '${elf.symbolName(sym)}', which is not a map in .maps`);
      }
      target = "spec" in m ? m.spec.name : m.name;
    }
    out.push({ key, name: target });
  }
  return out.sort((a, b) => a.key - b.key);
}
