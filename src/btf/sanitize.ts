/**
 * Rewriting BTF for a kernel that does not know every kind, the way libbpf does
 * before loading an object's BTF: each unknown kind is replaced by one the kernel
 * accepts with the same record layout, so type ids and sizes stay put.
 *
 * | missing feature | replacement |
 * |---|---|
 * | VAR/DATASEC (5.2) | VAR → `INT` of 1 byte; DATASEC → `STRUCT` with a member per variable, dots in the name become `_` |
 * | FUNC/FUNC_PROTO (5.0) | FUNC → `TYPEDEF`; FUNC_PROTO → `ENUM` with an enumerator per parameter |
 * | global FUNC linkage (5.6) | FUNC linkage → `static` |
 * | FLOAT (5.13) | anonymous empty `STRUCT` of the same size |
 * | DECL_TAG (5.16) | anonymous `INT` of 1 byte (also when its VAR or FUNC is rewritten) |
 * | TYPE_TAG (5.17) | anonymous `CONST` of the same target |
 * | ENUM64 (6.0) | `UNION` of the enumerators, each an `INT 'enum64_placeholder'`; ENUM signedness dropped |
 *
 * @module
 */

import type { BTF } from "./btf.ts";
import type { BTFType, IntType, Member, TypeId } from "./types.ts";

/** BTF kinds and flags a kernel understands. Every field true means "load as is". */
export interface BTFFeatures {
  /** FUNC and FUNC_PROTO (Linux 5.0). */
  readonly func: boolean;
  /** FUNC with global linkage (Linux 5.6). */
  readonly funcGlobal: boolean;
  /** VAR and DATASEC (Linux 5.2). */
  readonly datasec: boolean;
  /** FLOAT (Linux 5.13). */
  readonly float: boolean;
  /** DECL_TAG (Linux 5.16). */
  readonly declTag: boolean;
  /** TYPE_TAG (Linux 5.17). */
  readonly typeTag: boolean;
  /** ENUM64 and signed ENUM (Linux 6.0). */
  readonly enum64: boolean;
}

/** Every feature present: sanitising with this changes nothing. */
export const ALL_BTF_FEATURES: BTFFeatures = Object.freeze({
  func: true,
  funcGlobal: true,
  datasec: true,
  float: true,
  declTag: true,
  typeTag: true,
  enum64: true,
});

/** The 1-byte INT that stands in for a VAR or DECL_TAG. */
const byteInt = (id: TypeId, name: string): IntType => ({
  kind: "INT",
  id,
  name,
  size: 1,
  signed: false,
  char: false,
  bool: false,
  bitOffset: 0,
  bits: 8,
});

/**
 * `btf`'s own types (from {@link BTF.firstId}) rewritten for a kernel with `features`.
 * Types that need no change are returned as they are; replacements are plain objects
 * with the same id. When ENUM64 is replaced, one INT `enum64_placeholder` is appended
 * after the last type.
 *
 * @example
 * ```ts
 * const types = sanitizeTypes(btf, { ...ALL_BTF_FEATURES, typeTag: false });
 * ```
 */
export function sanitizeTypes(btf: BTF, features: BTFFeatures): BTFType[] {
  const own = btf.ownTypes;
  const out: BTFType[] = new Array(own.length);
  let placeholder: TypeId = 0;
  for (let i = 0; i < own.length; i++) {
    const t = own[i] as BTFType;
    let r: BTFType = t;
    switch (t.kind) {
      case "VAR":
        if (!features.datasec) r = byteInt(t.id, t.name);
        break;
      case "DATASEC":
        if (!features.datasec) {
          const members: Member[] = t.vars.map((v) => ({
            name: btf.types[v.type]?.name ?? "",
            type: v.type,
            bitOffset: v.offset * 8,
            bitfieldSize: 0,
          }));
          r = {
            kind: "STRUCT",
            id: t.id,
            name: t.name.replaceAll(".", "_"),
            size: t.size,
            members,
          };
        }
        break;
      case "FUNC":
        if (!features.func) r = { kind: "TYPEDEF", id: t.id, name: t.name, type: t.type };
        else if (!features.funcGlobal && t.linkage === "global")
          r = { ...funcFields(t), linkage: "static" };
        break;
      case "FUNC_PROTO":
        if (!features.func) {
          r = {
            kind: "ENUM",
            id: t.id,
            name: t.name,
            size: 4,
            signed: false,
            values: t.params.map((p) => ({ name: p.name, value: p.type })),
          };
        }
        break;
      case "FLOAT":
        if (!features.float) r = { kind: "STRUCT", id: t.id, name: "", size: t.size, members: [] };
        break;
      case "DECL_TAG": {
        // A tag on a VAR or FUNC that is rewritten itself would be refused too.
        const target = btf.types[t.type]?.kind;
        if (
          !features.declTag ||
          (target === "VAR" && !features.datasec) ||
          (target === "FUNC" && !features.func)
        ) {
          r = byteInt(t.id, "");
        }
        break;
      }
      case "TYPE_TAG":
        if (!features.typeTag) r = { kind: "CONST", id: t.id, name: "", type: t.type };
        break;
      case "ENUM":
        if (!features.enum64 && t.signed) {
          r = {
            kind: "ENUM",
            id: t.id,
            name: t.name,
            size: t.size,
            signed: false,
            values: t.values,
          };
        }
        break;
      case "ENUM64":
        if (!features.enum64) {
          if (placeholder === 0) placeholder = btf.count;
          const type = placeholder;
          r = {
            kind: "UNION",
            id: t.id,
            name: t.name,
            size: t.size,
            members: t.values.map((v) => ({ name: v.name, type, bitOffset: 0, bitfieldSize: 0 })),
          };
        }
        break;
      default:
        break;
    }
    out[i] = r;
  }
  if (placeholder !== 0) out.push(byteInt(placeholder, "enum64_placeholder"));
  return out;
}

/** The fields of a FUNC as a plain object (its class's getters do not spread). */
function funcFields(t: BTFType & { kind: "FUNC" }) {
  return { kind: "FUNC" as const, id: t.id, name: t.name, type: t.type, linkage: t.linkage };
}
