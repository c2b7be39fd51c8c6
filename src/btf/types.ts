/**
 * The BTF type model: one interface per kind, joined in the discriminated union
 * {@link BTFType} on `kind`. Type ids index {@link BTF.types}; id 0 is always `void`.
 *
 * Facts (numbering, record layouts) follow the kernel's BTF documentation
 * (Documentation/bpf/btf.rst) and include/uapi/linux/btf.h.
 *
 * @module
 */

/** A BTF type id. 0 is `void`; real types start at 1. */
export type TypeId = number;

/** The numeric BTF_KIND_* values as they appear in `btf_type.info` bits 24..28. */
export const BTFKindNumber = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** The name of a BTF kind, as bpftool prints it (`INT`, `STRUCT`, ...), plus `VOID` for id 0. */
export type BTFKind = Exclude<keyof typeof BTFKindNumber, "UNKN"> | "VOID";

/** Fields every type has. */
interface TypeBase {
  /** The type id (index in {@link BTF.types}). */
  readonly id: TypeId;
  /** The name, or "" for anonymous types. */
  readonly name: string;
}

/** Type id 0: `void`. Not stored in BTF; present so ids index the type array directly. */
export interface VoidType extends TypeBase {
  readonly kind: "VOID";
}

/** An integer type (`int`, `unsigned char`, `_Bool`, `__int128`). */
export interface IntType extends TypeBase {
  readonly kind: "INT";
  /** Storage size in bytes. */
  readonly size: number;
  /** BTF_INT_SIGNED. */
  readonly signed: boolean;
  /** BTF_INT_CHAR: meant for printing as a character. */
  readonly char: boolean;
  /** BTF_INT_BOOL. */
  readonly bool: boolean;
  /** BTF_INT_OFFSET: bit offset of the value within its storage (0 in practice). */
  readonly bitOffset: number;
  /** BTF_INT_BITS: number of value bits. */
  readonly bits: number;
}

/** C's `int` (4 bytes, signed) as type `id`: what generated and probe BTF use for scalars. */
export function cIntType(id: TypeId): IntType {
  return {
    kind: "INT",
    id,
    name: "int",
    size: 4,
    signed: true,
    char: false,
    bool: false,
    bitOffset: 0,
    bits: 32,
  };
}

/** A pointer to `type`. */
export interface PtrType extends TypeBase {
  readonly kind: "PTR";
  readonly type: TypeId;
}

/** An array of `nelems` elements of `type`, indexed by `indexType`. */
export interface ArrayType extends TypeBase {
  readonly kind: "ARRAY";
  /** Element type. */
  readonly type: TypeId;
  /** Index type (an INT, usually `unsigned int` or `__ARRAY_SIZE_TYPE__`). */
  readonly indexType: TypeId;
  /** Number of elements (0 for a flexible array). */
  readonly nelems: number;
}

/** A member of a struct or union. */
export interface Member {
  /** Member name, "" for anonymous struct/union members. */
  readonly name: string;
  readonly type: TypeId;
  /** Offset of the member in bits from the start of the enclosing struct/union. */
  readonly bitOffset: number;
  /** Width of a bitfield in bits, or 0 when the member is not a bitfield. */
  readonly bitfieldSize: number;
}

/** A struct or a union. */
export interface CompositeType extends TypeBase {
  readonly kind: "STRUCT" | "UNION";
  /** Size in bytes. */
  readonly size: number;
  readonly members: readonly Member[];
}

/** A struct. */
export interface StructType extends CompositeType {
  readonly kind: "STRUCT";
}

/** A union. */
export interface UnionType extends CompositeType {
  readonly kind: "UNION";
}

/** One enumerator of an ENUM. */
export interface EnumValue {
  readonly name: string;
  readonly value: number;
}

/** A 32-bit-valued enum (`size` may still be 1, 2, 4 or 8). */
export interface EnumType extends TypeBase {
  readonly kind: "ENUM";
  readonly size: number;
  /** kind_flag: values are signed. */
  readonly signed: boolean;
  readonly values: readonly EnumValue[];
}

/** One enumerator of an ENUM64. */
export interface Enum64Value {
  readonly name: string;
  readonly value: bigint;
}

/** An enum with 64-bit values. */
export interface Enum64Type extends TypeBase {
  readonly kind: "ENUM64";
  readonly size: number;
  /** kind_flag: values are signed. */
  readonly signed: boolean;
  readonly values: readonly Enum64Value[];
}

/** A forward declaration of a struct or union. */
export interface FwdType extends TypeBase {
  readonly kind: "FWD";
  /** What is declared: kind_flag 0 is a struct, 1 a union. */
  readonly fwdKind: "struct" | "union";
}

/** A type that only names or qualifies another: typedef, volatile, const, restrict, type tag. */
export interface RefType extends TypeBase {
  readonly kind: "TYPEDEF" | "VOLATILE" | "CONST" | "RESTRICT" | "TYPE_TAG";
  readonly type: TypeId;
}

/** A typedef. */
export interface TypedefType extends RefType {
  readonly kind: "TYPEDEF";
}
/** A `volatile` qualifier. */
export interface VolatileType extends RefType {
  readonly kind: "VOLATILE";
}
/** A `const` qualifier. */
export interface ConstType extends RefType {
  readonly kind: "CONST";
}
/** A `restrict` qualifier. */
export interface RestrictType extends RefType {
  readonly kind: "RESTRICT";
}
/** `__attribute__((btf_type_tag("name")))` on the pointee of a pointer. */
export interface TypeTagType extends RefType {
  readonly kind: "TYPE_TAG";
}

/** Linkage of a FUNC. */
export type FuncLinkage = "static" | "global" | "extern";

/** A function: a name for a FUNC_PROTO. */
export interface FuncType extends TypeBase {
  readonly kind: "FUNC";
  /** The FUNC_PROTO. */
  readonly type: TypeId;
  readonly linkage: FuncLinkage;
}

/** A parameter of a FUNC_PROTO. A trailing `{ name: "", type: 0 }` means `...`. */
export interface Param {
  readonly name: string;
  readonly type: TypeId;
}

/** A function signature. */
export interface FuncProtoType extends TypeBase {
  readonly kind: "FUNC_PROTO";
  /** Return type (0 for void). */
  readonly returnType: TypeId;
  readonly params: readonly Param[];
}

/** Linkage of a VAR. */
export type VarLinkage = "static" | "global" | "extern";

/** A variable, listed in a DATASEC. */
export interface VarType extends TypeBase {
  readonly kind: "VAR";
  readonly type: TypeId;
  readonly linkage: VarLinkage;
}

/** One variable placed in a DATASEC. */
export interface VarSecinfo {
  /** The VAR (or FUNC for .ksyms). */
  readonly type: TypeId;
  /** Byte offset in the section. */
  readonly offset: number;
  /** Byte size. */
  readonly size: number;
}

/** A data section (`.data`, `.bss`, `.rodata`, `.maps`, ...). */
export interface DatasecType extends TypeBase {
  readonly kind: "DATASEC";
  readonly size: number;
  readonly vars: readonly VarSecinfo[];
}

/** A floating-point type. */
export interface FloatType extends TypeBase {
  readonly kind: "FLOAT";
  readonly size: number;
}

/** `__attribute__((btf_decl_tag("name")))` on a declaration. */
export interface DeclTagType extends TypeBase {
  readonly kind: "DECL_TAG";
  /** The tagged type (struct, union, func, var, typedef). */
  readonly type: TypeId;
  /** -1 for the whole type, else the member or parameter index. */
  readonly componentIdx: number;
}

/** Any BTF type; switch on `kind`. */
export type BTFType =
  | VoidType
  | IntType
  | PtrType
  | ArrayType
  | StructType
  | UnionType
  | EnumType
  | FwdType
  | TypedefType
  | VolatileType
  | ConstType
  | RestrictType
  | FuncType
  | FuncProtoType
  | VarType
  | DatasecType
  | FloatType
  | DeclTagType
  | TypeTagType
  | Enum64Type;

/** The type of the given kind, e.g. `TypeOfKind<"STRUCT">` is {@link StructType}. */
export type TypeOfKind<K extends BTFKind> = Extract<BTFType, { kind: K }>;

/** The BTF header (`struct btf_header`). Section offsets are relative to the header's end. */
export interface BTFHeader {
  /** 0xeB9F. */
  readonly magic: number;
  readonly version: number;
  readonly flags: number;
  /** Header length in bytes (24 today; larger headers must be zero-padded). */
  readonly hdrLen: number;
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
  /** True when the blob is little-endian. */
  readonly littleEndian: boolean;
}
