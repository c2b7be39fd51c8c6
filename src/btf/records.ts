/**
 * The classes behind the type model: each reads its fixed fields when parsed and
 * decodes its name, and its list of members/values/parameters/variables, only when
 * first asked. Parsing vmlinux then creates one small object per type and no strings.
 *
 * Consumers see plain {@link BTFType} interfaces; these classes are internal. Note
 * that `name` and the lists are getters, so `{ ...t }` does not copy them.
 *
 * @module
 */

import type { StringTable } from "./strings.ts";
import type {
  ArrayType,
  BTFType,
  CompositeType,
  DatasecType,
  DeclTagType,
  Enum64Type,
  Enum64Value,
  EnumType,
  EnumValue,
  FloatType,
  FuncLinkage,
  FuncProtoType,
  FuncType,
  FwdType,
  IntType,
  Member,
  Param,
  PtrType,
  RefType,
  TypeId,
  VarLinkage,
  VarSecinfo,
  VarType,
} from "./types.ts";

/** What a record needs to decode itself later: the type section as words, and the strings. */
export interface RecordSource {
  /** The type section as native-endian 32-bit words. */
  readonly words: Uint32Array;
  readonly strings: StringTable;
}

/** The linkage names, indexed by the BTF value. */
export const LINKAGES: readonly FuncLinkage[] = ["static", "global", "extern"];

abstract class Named {
  declare readonly id: TypeId;
  /** @internal */
  declare readonly nameOff: number;
  /** @internal */
  declare readonly src: RecordSource;
  constructor(src: RecordSource, id: TypeId, nameOff: number) {
    this.id = id;
    this.nameOff = nameOff;
    this.src = src;
    this.decodedName = undefined;
  }
  /** The decoded name, once asked for. */
  declare private decodedName: string | undefined;
  get name(): string {
    let n = this.decodedName;
    if (n === undefined) {
      n = this.nameOff === 0 ? "" : this.src.strings.get(this.nameOff);
      this.decodedName = n;
    }
    return n;
  }
}

/** INT. */
export class IntRecord extends Named implements IntType {
  declare readonly kind: "INT";
  declare readonly size: number;
  declare readonly signed: boolean;
  declare readonly char: boolean;
  declare readonly bool: boolean;
  declare readonly bitOffset: number;
  declare readonly bits: number;
  constructor(src: RecordSource, id: TypeId, nameOff: number, size: number, enc: number) {
    super(src, id, nameOff);
    this.kind = "INT";
    const encoding = (enc >>> 24) & 0x0f;
    this.size = size;
    this.signed = (encoding & 1) !== 0;
    this.char = (encoding & 2) !== 0;
    this.bool = (encoding & 4) !== 0;
    this.bitOffset = (enc >>> 16) & 0xff;
    this.bits = enc & 0xff;
  }
}

/** PTR. */
export class PtrRecord extends Named implements PtrType {
  declare readonly kind: "PTR";
  declare readonly type: TypeId;
  constructor(src: RecordSource, id: TypeId, nameOff: number, type: TypeId) {
    super(src, id, nameOff);
    this.kind = "PTR";
    this.type = type;
  }
}

/** ARRAY. */
export class ArrayRecord extends Named implements ArrayType {
  declare readonly kind: "ARRAY";
  declare readonly type: TypeId;
  declare readonly indexType: TypeId;
  declare readonly nelems: number;
  constructor(
    src: RecordSource,
    id: TypeId,
    nameOff: number,
    type: TypeId,
    indexType: TypeId,
    nelems: number,
  ) {
    super(src, id, nameOff);
    this.kind = "ARRAY";
    this.type = type;
    this.indexType = indexType;
    this.nelems = nelems;
  }
}

/** Types whose list follows the record: remembers where it is and decodes it once. */
abstract class WithList<T> extends Named {
  /** @internal word index of the first list entry */
  declare readonly at: number;
  /** @internal number of entries */
  declare readonly vlen: number;
  declare private cached: T[] | undefined;
  constructor(src: RecordSource, id: TypeId, nameOff: number, at: number, vlen: number) {
    super(src, id, nameOff);
    this.at = at;
    this.vlen = vlen;
    this.cached = undefined;
  }
  protected list(): T[] {
    let l = this.cached;
    if (l === undefined) {
      l = this.decode();
      this.cached = l;
    }
    return l;
  }
  protected abstract decode(): T[];
}

/** STRUCT and UNION. */
export class CompositeRecord extends WithList<Member> implements CompositeType {
  declare readonly kind: "STRUCT" | "UNION";
  declare readonly size: number;
  /** @internal kind_flag: member offsets carry bitfield sizes */
  declare readonly kindFlag: boolean;
  constructor(
    src: RecordSource,
    id: TypeId,
    nameOff: number,
    at: number,
    vlen: number,
    union: boolean,
    size: number,
    kindFlag: boolean,
  ) {
    super(src, id, nameOff, at, vlen);
    this.kind = union ? "UNION" : "STRUCT";
    this.size = size;
    this.kindFlag = kindFlag;
  }
  get members(): readonly Member[] {
    return this.list();
  }
  protected decode(): Member[] {
    const { words, strings } = this.src;
    const out: Member[] = new Array(this.vlen);
    const kf = this.kindFlag;
    for (let i = 0, w = this.at; i < this.vlen; i++, w += 3) {
      const n = words[w]!;
      const off = words[w + 2]!;
      out[i] = {
        name: n === 0 ? "" : strings.get(n),
        type: words[w + 1]!,
        bitOffset: kf ? off & 0xffffff : off,
        bitfieldSize: kf ? off >>> 24 : 0,
      };
    }
    return out;
  }
}

/** ENUM. */
export class EnumRecord extends WithList<EnumValue> implements EnumType {
  declare readonly kind: "ENUM";
  declare readonly size: number;
  declare readonly signed: boolean;
  constructor(
    src: RecordSource,
    id: TypeId,
    nameOff: number,
    at: number,
    vlen: number,
    size: number,
    signed: boolean,
  ) {
    super(src, id, nameOff, at, vlen);
    this.kind = "ENUM";
    this.size = size;
    this.signed = signed;
  }
  get values(): readonly EnumValue[] {
    return this.list();
  }
  protected decode(): EnumValue[] {
    const { words, strings } = this.src;
    const out: EnumValue[] = new Array(this.vlen);
    for (let i = 0, w = this.at; i < this.vlen; i++, w += 2) {
      const v = words[w + 1]!;
      out[i] = { name: strings.get(words[w]!), value: this.signed ? v | 0 : v };
    }
    return out;
  }
}

/** ENUM64. */
export class Enum64Record extends WithList<Enum64Value> implements Enum64Type {
  declare readonly kind: "ENUM64";
  declare readonly size: number;
  declare readonly signed: boolean;
  constructor(
    src: RecordSource,
    id: TypeId,
    nameOff: number,
    at: number,
    vlen: number,
    size: number,
    signed: boolean,
  ) {
    super(src, id, nameOff, at, vlen);
    this.kind = "ENUM64";
    this.size = size;
    this.signed = signed;
  }
  get values(): readonly Enum64Value[] {
    return this.list();
  }
  protected decode(): Enum64Value[] {
    const { words, strings } = this.src;
    const out: Enum64Value[] = new Array(this.vlen);
    for (let i = 0, w = this.at; i < this.vlen; i++, w += 3) {
      const raw = (BigInt(words[w + 2]!) << 32n) | BigInt(words[w + 1]!);
      out[i] = {
        name: strings.get(words[w]!),
        value: this.signed ? BigInt.asIntN(64, raw) : raw,
      };
    }
    return out;
  }
}

/** FWD. */
export class FwdRecord extends Named implements FwdType {
  declare readonly kind: "FWD";
  declare readonly fwdKind: "struct" | "union";
  constructor(src: RecordSource, id: TypeId, nameOff: number, union: boolean) {
    super(src, id, nameOff);
    this.kind = "FWD";
    this.fwdKind = union ? "union" : "struct";
  }
}

/** TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG. */
export class RefRecord extends Named implements RefType {
  declare readonly kind: RefType["kind"];
  declare readonly type: TypeId;
  constructor(src: RecordSource, id: TypeId, nameOff: number, kind: RefType["kind"], type: TypeId) {
    super(src, id, nameOff);
    this.kind = kind;
    this.type = type;
  }
}

/** FUNC. */
export class FuncRecord extends Named implements FuncType {
  declare readonly kind: "FUNC";
  declare readonly type: TypeId;
  declare readonly linkage: FuncLinkage;
  constructor(src: RecordSource, id: TypeId, nameOff: number, type: TypeId, linkage: FuncLinkage) {
    super(src, id, nameOff);
    this.kind = "FUNC";
    this.type = type;
    this.linkage = linkage;
  }
}

/** FUNC_PROTO. */
export class FuncProtoRecord extends WithList<Param> implements FuncProtoType {
  declare readonly kind: "FUNC_PROTO";
  declare readonly returnType: TypeId;
  constructor(
    src: RecordSource,
    id: TypeId,
    nameOff: number,
    at: number,
    vlen: number,
    returnType: TypeId,
  ) {
    super(src, id, nameOff, at, vlen);
    this.kind = "FUNC_PROTO";
    this.returnType = returnType;
  }
  get params(): readonly Param[] {
    return this.list();
  }
  protected decode(): Param[] {
    const { words, strings } = this.src;
    const out: Param[] = new Array(this.vlen);
    for (let i = 0, w = this.at; i < this.vlen; i++, w += 2) {
      const n = words[w]!;
      out[i] = { name: n === 0 ? "" : strings.get(n), type: words[w + 1]! };
    }
    return out;
  }
}

/** VAR. */
export class VarRecord extends Named implements VarType {
  declare readonly kind: "VAR";
  declare readonly type: TypeId;
  declare readonly linkage: VarLinkage;
  constructor(src: RecordSource, id: TypeId, nameOff: number, type: TypeId, linkage: VarLinkage) {
    super(src, id, nameOff);
    this.kind = "VAR";
    this.type = type;
    this.linkage = linkage;
  }
}

/** DATASEC. */
export class DatasecRecord extends WithList<VarSecinfo> implements DatasecType {
  declare readonly kind: "DATASEC";
  declare readonly size: number;
  constructor(
    src: RecordSource,
    id: TypeId,
    nameOff: number,
    at: number,
    vlen: number,
    size: number,
  ) {
    super(src, id, nameOff, at, vlen);
    this.kind = "DATASEC";
    this.size = size;
  }
  get vars(): readonly VarSecinfo[] {
    return this.list();
  }
  protected decode(): VarSecinfo[] {
    const { words } = this.src;
    const out: VarSecinfo[] = new Array(this.vlen);
    for (let i = 0, w = this.at; i < this.vlen; i++, w += 3) {
      out[i] = { type: words[w]!, offset: words[w + 1]!, size: words[w + 2]! };
    }
    return out;
  }
}

/** FLOAT. */
export class FloatRecord extends Named implements FloatType {
  declare readonly kind: "FLOAT";
  declare readonly size: number;
  constructor(src: RecordSource, id: TypeId, nameOff: number, size: number) {
    super(src, id, nameOff);
    this.kind = "FLOAT";
    this.size = size;
  }
}

/** DECL_TAG. */
export class DeclTagRecord extends Named implements DeclTagType {
  declare readonly kind: "DECL_TAG";
  declare readonly type: TypeId;
  declare readonly componentIdx: number;
  constructor(src: RecordSource, id: TypeId, nameOff: number, type: TypeId, componentIdx: number) {
    super(src, id, nameOff);
    this.kind = "DECL_TAG";
    this.type = type;
    this.componentIdx = componentIdx;
  }
}

/** The shared `void` (type id 0). */
export const VOID_TYPE: BTFType = Object.freeze({ kind: "VOID", id: 0, name: "" });

const REF_KINDS: Readonly<Record<number, RefType["kind"]>> = {
  8: "TYPEDEF",
  9: "VOLATILE",
  10: "CONST",
  11: "RESTRICT",
  18: "TYPE_TAG",
};

/**
 * The type object for the record at word `w` of `src.words`, as type `id`. The record
 * must have passed parseBTF's checks (kind, lengths, linkage); nothing is checked here.
 */
export function decodeRecord(src: RecordSource, id: TypeId, w: number): BTFType {
  const words = src.words;
  const nameOff = words[w] as number;
  const info = words[w + 1] as number;
  const st = words[w + 2] as number;
  const body = w + 3;
  const vlen = info & 0xffff;
  const kflag = info >>> 31 === 1;
  const kind = (info >>> 24) & 0x1f;
  switch (kind) {
    case 1:
      return new IntRecord(src, id, nameOff, st, words[body] as number);
    case 2:
      return new PtrRecord(src, id, nameOff, st);
    case 3:
      return new ArrayRecord(
        src,
        id,
        nameOff,
        words[body] as number,
        words[body + 1] as number,
        words[body + 2] as number,
      );
    case 4:
    case 5:
      return new CompositeRecord(src, id, nameOff, body, vlen, kind === 5, st, kflag);
    case 6:
      return new EnumRecord(src, id, nameOff, body, vlen, st, kflag);
    case 7:
      return new FwdRecord(src, id, nameOff, kflag);
    case 12:
      return new FuncRecord(src, id, nameOff, st, LINKAGES[vlen] as FuncLinkage);
    case 13:
      return new FuncProtoRecord(src, id, nameOff, body, vlen, st);
    case 14:
      return new VarRecord(src, id, nameOff, st, LINKAGES[words[body] as number] as VarLinkage);
    case 15:
      return new DatasecRecord(src, id, nameOff, body, vlen, st);
    case 16:
      return new FloatRecord(src, id, nameOff, st);
    case 17:
      return new DeclTagRecord(src, id, nameOff, st, (words[body] as number) | 0);
    case 19:
      return new Enum64Record(src, id, nameOff, body, vlen, st, kflag);
    default:
      return new RefRecord(src, id, nameOff, REF_KINDS[kind] as RefType["kind"], st);
  }
}
