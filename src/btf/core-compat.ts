/**
 * CO-RE compatibility rules: when a type of the program's own BTF ("local") may stand
 * for a type of the kernel's BTF ("target"). The rules are libbpf's (relo_core.c), so
 * an object relocates the same way under tsbpf and under libbpf:
 *
 * - names compare by their *essential* part: `task_struct___v2` is `task_struct`;
 * - a field is compatible with a field of any other size or signedness of integer,
 *   any pointer, any struct or union, an enum of the same essential name (or an
 *   anonymous one), an array of compatible elements;
 * - a type (for `bpf_core_type_exists`) is compatible when its kind matches, pointers
 *   and arrays point to compatible types and function prototypes have compatible
 *   parameters and return types;
 * - `bpf_core_type_matches` is stricter: integers agree in size and signedness, every
 *   local member or enumerator has a namesake in the target, arrays have the same
 *   length.
 *
 * @module
 */

import type { BTF } from "./btf.ts";
import { BTFError } from "./errors.ts";
import type { BTFType, TypeId } from "./types.ts";

/** Deepest type chain followed before giving up (libbpf's limit too). */
const MAX_DEPTH = 32;

/**
 * The essential part of a CO-RE name: everything before the last `___flavour` suffix
 * (`X___Y` where neither X nor Y is an underscore); the whole name when there is none.
 *
 * @example
 * ```ts
 * essentialName("task_struct___old"); // "task_struct"
 * essentialName("__u32");             // "__u32"
 * ```
 */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (
      name[i] !== "_" &&
      name[i + 1] === "_" &&
      name[i + 2] === "_" &&
      name[i + 3] === "_" &&
      name[i + 4] !== "_"
    ) {
      return name.slice(0, i + 1);
    }
  }
  return name;
}

/** True for ENUM and ENUM64. */
export function isAnyEnum(t: BTFType): t is BTFType & { kind: "ENUM" | "ENUM64" } {
  return t.kind === "ENUM" || t.kind === "ENUM64";
}

/** True for STRUCT and UNION. */
export function isComposite(t: BTFType): t is BTFType & { kind: "STRUCT" | "UNION" } {
  return t.kind === "STRUCT" || t.kind === "UNION";
}

/** Same kind, where ENUM and ENUM64 count as one (libbpf's `btf_kind_core_compat`). */
export function kindsCompatible(a: BTFType, b: BTFType): boolean {
  return a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));
}

/** The type behind typedefs and qualifiers (libbpf's `skip_mods_and_typedefs`). */
export function skipModifiers(btf: BTF, id: TypeId): BTFType {
  return btf.resolve(id);
}

function namesEssentiallyEqual(a: string, b: string): boolean {
  return essentialName(a) === essentialName(b);
}

/**
 * Whether a local field's type can be read as a target field's type
 * (libbpf's `bpf_core_fields_are_compat`).
 */
export function fieldsCompatible(
  local: BTF,
  localId: TypeId,
  target: BTF,
  targetId: TypeId,
): boolean {
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const l = skipModifiers(local, localId);
    const t = skipModifiers(target, targetId);
    if (isComposite(l) && isComposite(t)) return true;
    if (!kindsCompatible(l, t)) return false;
    switch (l.kind) {
      case "PTR":
      case "FLOAT":
        return true;
      case "FWD":
      case "ENUM":
      case "ENUM64": {
        const ln = essentialName(l.name);
        const tn = essentialName(t.name);
        return ln === "" || tn === "" || ln === tn;
      }
      case "INT":
        return l.bitOffset === 0 && (t as typeof l).bitOffset === 0;
      case "ARRAY":
        localId = l.type;
        targetId = (t as typeof l).type;
        continue;
      default:
        return false;
    }
  }
  throw new BTFError(`type chain from local [${localId}] is deeper than ${MAX_DEPTH}`);
}

/**
 * Whether local type `localId` is compatible with target type `targetId` for the
 * type-based relocations (exists, size, target id): libbpf's `bpf_core_types_are_compat`.
 * The caller has matched the names already.
 */
export function typesCompatible(
  local: BTF,
  localId: TypeId,
  target: BTF,
  targetId: TypeId,
  level = MAX_DEPTH,
): boolean {
  if (!kindsCompatible(local.type(localId), target.type(targetId))) return false;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const l = skipModifiers(local, localId);
    const t = skipModifiers(target, targetId);
    if (!kindsCompatible(l, t)) return false;
    switch (l.kind) {
      case "VOID":
      case "STRUCT":
      case "UNION":
      case "ENUM":
      case "ENUM64":
      case "FWD":
        return true;
      case "INT":
        return l.bitOffset === 0 && (t as typeof l).bitOffset === 0;
      case "PTR":
        localId = l.type;
        targetId = (t as typeof l).type;
        continue;
      case "ARRAY":
        localId = l.type;
        targetId = (t as typeof l).type;
        continue;
      case "FUNC_PROTO": {
        const tp = t as typeof l;
        if (l.params.length !== tp.params.length) return false;
        for (let i = 0; i < l.params.length; i++) {
          if (level <= 0) throw new BTFError("function prototypes nest too deeply");
          const lp = skipModifiers(local, l.params[i]!.type).id;
          const tpp = skipModifiers(target, tp.params[i]!.type).id;
          if (!typesCompatible(local, lp, target, tpp, level - 1)) return false;
        }
        localId = skipModifiers(local, l.returnType).id;
        targetId = skipModifiers(target, tp.returnType).id;
        continue;
      }
      default:
        return false;
    }
  }
  throw new BTFError(`type chain from local [${localId}] is deeper than ${MAX_DEPTH}`);
}

/** Names match essentially; an anonymous target matches only an anonymous local. */
function namesMatch(localName: string, targetName: string): boolean {
  if (targetName === "") return localName === "";
  return namesEssentiallyEqual(localName, targetName);
}

/**
 * `bpf_core_type_matches`: the stricter "same shape" relation (libbpf's
 * `bpf_core_types_match`).
 */
export function typesMatch(
  local: BTF,
  localId: TypeId,
  target: BTF,
  targetId: TypeId,
  behindPtr = false,
  level = MAX_DEPTH,
): boolean {
  if (level <= 0) throw new BTFError("types nest too deeply to match");
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const l = skipModifiers(local, localId);
    const t = skipModifiers(target, targetId);
    if (!namesMatch(l.name, t.name)) return false;
    switch (l.kind) {
      case "VOID":
        return t.kind === "VOID";
      case "FWD": {
        const lUnion = l.fwdKind === "union";
        if (behindPtr) {
          if (t.kind === "FWD") return lUnion === (t.fwdKind === "union");
          return (t.kind === "STRUCT" && !lUnion) || (t.kind === "UNION" && lUnion);
        }
        return t.kind === "FWD" && lUnion === (t.fwdKind === "union");
      }
      case "ENUM":
      case "ENUM64":
        return isAnyEnum(t) && enumsMatch(l, t);
      case "STRUCT":
      case "UNION":
        if (behindPtr) {
          if (l.kind === t.kind) return true;
          if (t.kind !== "FWD") return false;
          return (l.kind === "UNION") === (t.fwdKind === "union");
        }
        if (l.kind !== t.kind) return false;
        return compositesMatch(local, l, target, t as typeof l, behindPtr, level);
      case "INT":
        return t.kind === "INT" && l.size === t.size && l.signed === t.signed;
      case "PTR":
        if (t.kind !== "PTR") return false;
        behindPtr = true;
        localId = l.type;
        targetId = t.type;
        continue;
      case "ARRAY":
        if (t.kind !== "ARRAY" || l.nelems !== t.nelems) return false;
        localId = l.type;
        targetId = t.type;
        continue;
      case "FUNC_PROTO": {
        if (t.kind !== "FUNC_PROTO" || l.params.length !== t.params.length) return false;
        for (let i = 0; i < l.params.length; i++) {
          const ok = typesMatch(
            local,
            l.params[i]!.type,
            target,
            t.params[i]!.type,
            behindPtr,
            level - 1,
          );
          if (!ok) return false;
        }
        localId = l.returnType;
        targetId = t.returnType;
        continue;
      }
      default:
        return false;
    }
  }
  throw new BTFError(`type chain from local [${localId}] is deeper than ${MAX_DEPTH}`);
}

function enumsMatch(
  l: BTFType & { kind: "ENUM" | "ENUM64" },
  t: BTFType & { kind: "ENUM" | "ENUM64" },
): boolean {
  if (l.size !== t.size || l.values.length > t.values.length) return false;
  return l.values.every((lv) => t.values.some((tv) => namesMatch(lv.name, tv.name)));
}

function compositesMatch(
  local: BTF,
  l: BTFType & { kind: "STRUCT" | "UNION" },
  target: BTF,
  t: BTFType & { kind: "STRUCT" | "UNION" },
  behindPtr: boolean,
  level: number,
): boolean {
  if (l.members.length > t.members.length) return false;
  return l.members.every((lm) =>
    t.members.some(
      (tm) =>
        namesMatch(lm.name, tm.name) &&
        typesMatch(local, lm.type, target, tm.type, behindPtr, level - 1),
    ),
  );
}
