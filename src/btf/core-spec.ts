/**
 * CO-RE access specs: what a relocation's access string ("0:1:2") means in one BTF,
 * and finding the same access in another BTF (libbpf's `bpf_core_parse_spec` and
 * `bpf_core_spec_match`).
 *
 * A field access string lists indices: the first indexes the root pointer as an array
 * (`p[0]`), the rest pick a member of a struct/union or an element of an array. The
 * *named* steps (members with a name, and array elements) are what must be found again
 * in the target; anonymous struct/union members are looked through.
 *
 * @module
 */

import type { BTF } from "./btf.ts";
import {
  essentialName as essential,
  fieldsCompatible,
  isAnyEnum,
  isComposite,
  skipModifiers,
} from "./core-compat.ts";
import { BTFError } from "./errors.ts";
import { CoreReloKind } from "./ext.ts";
import type { TypeId } from "./types.ts";

/** The longest access string libbpf accepts (`BPF_CORE_SPEC_MAX_LEN`). */
export const CORE_SPEC_MAX_LEN = 64;

/** One step of an access: a named member, an array element, or an enumerator. */
export interface CoreAccessor {
  /** The (resolved) struct, union, array element or enum type the step indexes. */
  readonly typeId: TypeId;
  /** Member, element or enumerator index. */
  readonly idx: number;
  /** The member's or enumerator's name; undefined for array elements. */
  readonly name?: string;
}

/** An access resolved in one BTF. */
export interface CoreSpec {
  readonly btf: BTF;
  /** The relocation's root type in this BTF. */
  readonly rootTypeId: TypeId;
  readonly kind: number;
  /** Every index, anonymous members included. */
  readonly raw: number[];
  /** The named steps. */
  readonly accessors: CoreAccessor[];
  /** Bit offset of the accessed field from the root pointer. */
  bitOffset: number;
}

/** True for the field relocations (byte offset ... rshift). */
export function isFieldKind(kind: number): boolean {
  return kind >= CoreReloKind.FIELD_BYTE_OFFSET && kind <= CoreReloKind.FIELD_RSHIFT_U64;
}

/** True for the type relocations (local/target id, exists, size, matches). */
export function isTypeKind(kind: number): boolean {
  return (
    (kind >= CoreReloKind.TYPE_ID_LOCAL && kind <= CoreReloKind.TYPE_SIZE) ||
    kind === CoreReloKind.TYPE_MATCHES
  );
}

/** True for the enumerator relocations (exists, value). */
export function isEnumKind(kind: number): boolean {
  return kind === CoreReloKind.ENUMVAL_EXISTS || kind === CoreReloKind.ENUMVAL_VALUE;
}

/** An access string the local BTF cannot give a meaning to. */
export class CoreSpecError extends BTFError {
  constructor(reason: string) {
    super(reason);
    this.name = "CoreSpecError";
  }
}

/** libbpf's `is_flex_arr`: a zero-length array that is the last member of its struct. */
function isFlexArray(btf: BTF, prev: CoreAccessor | undefined, nelems: number): boolean {
  if (prev?.name === undefined || nelems > 0) return false;
  const t = btf.type(prev.typeId);
  return isComposite(t) && prev.idx === t.members.length - 1;
}

/**
 * Parses `access` for a relocation of `kind` rooted at `typeId` in `btf`.
 *
 * @throws {CoreSpecError} when the string does not fit the type
 */
export function parseCoreSpec(btf: BTF, typeId: TypeId, access: string, kind: number): CoreSpec {
  if (!/^\d+(:\d+)*$/.test(access)) {
    throw new CoreSpecError(`access string "${access}" is not a list of indices`);
  }
  const raw = access.split(":").map(Number);
  if (raw.length > CORE_SPEC_MAX_LEN) {
    throw new CoreSpecError(`access string "${access}" is longer than ${CORE_SPEC_MAX_LEN}`);
  }
  const spec: CoreSpec = { btf, rootTypeId: typeId, kind, raw, accessors: [], bitOffset: 0 };
  if (isTypeKind(kind)) {
    if (access !== "0") {
      throw new CoreSpecError(`type relocation with access "${access}", expected "0"`);
    }
    return spec;
  }
  let t = skipModifiers(btf, typeId);
  const first = raw[0]!;
  if (isEnumKind(kind)) {
    if (!isAnyEnum(t) || raw.length > 1 || first >= t.values.length) {
      throw new CoreSpecError(
        `enum value relocation with access "${access}" on ${t.kind} [${t.id}], which has no such enumerator`,
      );
    }
    spec.accessors.push({ typeId: t.id, idx: first, name: t.values[first]!.name });
    return spec;
  }
  if (!isFieldKind(kind)) throw new CoreSpecError(`unknown relocation kind ${kind}`);

  spec.accessors.push({ typeId: t.id, idx: first });
  spec.bitOffset = first * sizeOf(btf, t.id) * 8;
  let id = t.id;
  for (let i = 1; i < raw.length; i++) {
    t = skipModifiers(btf, id);
    id = t.id;
    const idx = raw[i]!;
    if (isComposite(t)) {
      const m = t.members[idx];
      if (m === undefined) {
        throw new CoreSpecError(
          `access "${access}": member ${idx} of ${t.kind} '${t.name}' [${t.id}] does not exist (it has ${t.members.length})`,
        );
      }
      spec.bitOffset += m.bitOffset;
      if (m.name !== "") spec.accessors.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === "ARRAY") {
      const elem = skipModifiers(btf, t.type);
      const flex = isFlexArray(btf, spec.accessors[spec.accessors.length - 1], t.nelems);
      if (!flex && idx >= t.nelems) {
        throw new CoreSpecError(
          `access "${access}": element ${idx} of an array of ${t.nelems} [${t.id}]`,
        );
      }
      spec.accessors.push({ typeId: elem.id, idx });
      spec.bitOffset += idx * sizeOf(btf, elem.id) * 8;
      id = elem.id;
    } else {
      throw new CoreSpecError(
        `access "${access}" (step ${i}) indexes ${t.kind} [${t.id}], which is neither a struct, a union nor an array`,
      );
    }
  }
  return spec;
}

/** `btf.sizeof` with errors that say which type. */
export function sizeOf(btf: BTF, id: TypeId): number {
  try {
    return btf.sizeof(id);
  } catch (e) {
    throw new CoreSpecError(`cannot size type [${id}]: ${(e as Error).message}`);
  }
}

/**
 * Finds `local`'s access in `target` starting at candidate root `targetId`; undefined
 * when the candidate does not have it. Only field and enumerator specs (type specs
 * are matched by the compatibility rules alone).
 */
export function matchCoreSpec(
  local: CoreSpec,
  target: BTF,
  targetId: TypeId,
): CoreSpec | undefined {
  const spec: CoreSpec = {
    btf: target,
    rootTypeId: targetId,
    kind: local.kind,
    raw: [],
    accessors: [],
    bitOffset: 0,
  };
  if (isEnumKind(local.kind)) {
    const t = skipModifiers(target, targetId);
    if (!isAnyEnum(t)) return undefined;
    const want = essential(local.accessors[0]!.name!);
    const i = t.values.findIndex((v) => essential(v.name) === want);
    if (i < 0) return undefined;
    spec.accessors.push({ typeId: t.id, idx: i, name: t.values[i]!.name });
    spec.raw.push(i);
    return spec;
  }
  let id = targetId;
  for (let i = 0; i < local.accessors.length; i++) {
    const acc = local.accessors[i]!;
    const t = skipModifiers(target, id);
    id = t.id;
    if (acc.name !== undefined) {
      const next = matchMember(local.btf, acc, target, id, spec);
      if (next === undefined) return undefined;
      id = next;
      continue;
    }
    if (i > 0) {
      if (t.kind !== "ARRAY") return undefined;
      const flex = isFlexArray(target, spec.accessors[spec.accessors.length - 1], t.nelems);
      if (!flex && acc.idx >= t.nelems) return undefined;
      id = skipModifiers(target, t.type).id;
    }
    if (spec.raw.length >= CORE_SPEC_MAX_LEN) {
      throw new CoreSpecError(`target access is deeper than ${CORE_SPEC_MAX_LEN}`);
    }
    spec.accessors.push({ typeId: id, idx: acc.idx });
    spec.raw.push(acc.idx);
    spec.bitOffset += acc.idx * sizeOf(target, id) * 8;
  }
  return spec;
}

/**
 * Finds the member named like local accessor `acc` in target composite `targetId`,
 * looking through anonymous members; pushes the steps onto `spec` and returns the
 * member's type, or undefined (spec unchanged) when there is none or its type is not
 * compatible.
 */
function matchMember(
  local: BTF,
  acc: CoreAccessor,
  target: BTF,
  targetId: TypeId,
  spec: CoreSpec,
): TypeId | undefined {
  const t = skipModifiers(target, targetId);
  if (!isComposite(t)) return undefined;
  const lt = local.type(acc.typeId);
  if (!isComposite(lt)) return undefined;
  const lm = lt.members[acc.idx]!;
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i]!;
    if (spec.raw.length >= CORE_SPEC_MAX_LEN) {
      throw new CoreSpecError(`target access is deeper than ${CORE_SPEC_MAX_LEN}`);
    }
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === "") {
      const found = matchMember(local, acc, target, m.type, spec);
      if (found !== undefined) return found;
    } else if (m.name === lm.name) {
      if (!fieldsCompatible(local, lm.type, target, m.type)) {
        spec.bitOffset -= m.bitOffset;
        spec.raw.pop();
        return undefined;
      }
      spec.accessors.push({ typeId: t.id, idx: i, name: m.name });
      return m.type;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return undefined;
}
