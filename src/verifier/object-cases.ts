/**
 * The programs of an ELF object (its CollectionSpec) as {@link VerifierCase} values: map
 * references become map indexes, func_info becomes the case's functions. What a case
 * cannot say is reported instead of guessed.
 * @module
 */
import type { BTF } from "../btf/btf.ts";
import type { CollectionSpec } from "../spec/collection-spec.ts";
import type { MapSpec } from "../spec/map-spec.ts";
import type { ProgramSpec } from "../spec/program-spec.ts";
import { INSN_SIZE, MapType, ProgType } from "../uapi/index.ts";
import type { CaseFunc, CaseMap, VerifierCase } from "./case.ts";

/** A case and where it came from. */
export interface LabelledCase {
  /** `random:SEED:I`, `object:PATH:PROGRAM`, or a base's label with `/mutation@insn`. */
  readonly label: string;
  readonly case: VerifierCase;
}

/** Program types whose programs need an attach target a case cannot name. */
/** Program types whose context and helpers depend on an attach target's BTF. */
export const NEEDS_TARGET: ReadonlySet<number> = new Set<number>([
  ProgType.TRACING,
  ProgType.LSM,
  ProgType.EXT,
  ProgType.STRUCT_OPS,
]);

/** Map types a case cannot create (BTF-described values, struct_ops, arenas). */
const NEEDS_BTF = new Set<number>([
  MapType.SK_STORAGE,
  MapType.INODE_STORAGE,
  MapType.TASK_STORAGE,
  MapType.CGRP_STORAGE,
  MapType.STRUCT_OPS,
  MapType.ARENA,
]);

/**
 * The programs of an object as cases, or why each cannot be one: kernel symbols,
 * kfuncs and CO-RE relocations need a loader; maps whose type needs BTF, and programs
 * that need an attach target, have no place in the case format. Map initial contents
 * are left out (the kernel judges the case as given: an unfrozen, empty .rodata).
 */
export function objectCases(
  spec: CollectionSpec,
  path: string,
): { cases: LabelledCase[]; skipped: { program: string; reason: string }[] } {
  const cases: LabelledCase[] = [];
  const skipped: { program: string; reason: string }[] = [];
  for (const [name, p] of Object.entries(spec.programs)) {
    const why = unsupported(spec, p);
    if (why) {
      skipped.push({ program: name, reason: why });
      continue;
    }
    const insns = p.instructions.slice();
    const view = new DataView(insns.buffer);
    const order: string[] = [];
    for (const r of p.references ?? []) {
      if (r.kind !== "map" && r.kind !== "mapValue") continue;
      let idx = order.indexOf(r.map);
      if (idx < 0) idx = order.push(r.map) - 1;
      view.setInt32(r.insn * INSN_SIZE + 4, idx, true);
    }
    const maps: CaseMap[] = order.map((m) => caseMap(spec, spec.maps[m] as MapSpec));
    const { funcs, unexpressible } = programFuncs(spec, p);
    if (unexpressible) {
      skipped.push({ program: name, reason: unexpressible });
      continue;
    }
    cases.push({
      label: `object:${path}:${name}`,
      case: {
        name,
        progType: p.type,
        ...(p.expectedAttachType !== undefined ? { expectedAttachType: p.expectedAttachType } : {}),
        progFlags: p.flags ?? 0,
        license: p.license || "GPL",
        insns,
        maps,
        funcs,
      },
    });
  }
  return { cases, skipped };
}

/**
 * A program's func_info as case functions (first instruction, linkage, void return,
 * scalar parameter count of global functions), or why a case cannot describe them: a
 * global function whose parameters are not all scalars.
 */
export function programFuncs(
  spec: CollectionSpec,
  p: ProgramSpec,
): { funcs: CaseFunc[]; unexpressible?: string } {
  const funcs: CaseFunc[] = [];
  let unexpressible: string | undefined;
  const fi = p.btf?.funcInfo;
  if (fi && p.btf?.funcInfoRecordSize && spec.btf) {
    const v = new DataView(fi.buffer, fi.byteOffset, fi.byteLength);
    for (let o = 0; o + 8 <= fi.length; o += p.btf.funcInfoRecordSize) {
      const t = spec.btf.types[v.getUint32(o + 4, true)];
      const proto = t?.kind === "FUNC" ? spec.btf.types[t.type] : undefined;
      const returnsVoid = proto?.kind === "FUNC_PROTO" && proto.returnType === 0;
      // The entry program is never "global" to the verifier; its subprograms may be.
      const global = o > 0 && t?.kind === "FUNC" && t.linkage === "global";
      const params = proto?.kind === "FUNC_PROTO" ? proto.params : [];
      // A case's BTF says `int` for each parameter; a global function's pointer
      // parameters would change what the kernel checks.
      if (global && !params.every((q) => isScalarType(spec.btf as BTF, q.type)))
        unexpressible = "a global function with non-scalar parameters";
      funcs.push({
        insnOff: v.getUint32(o, true),
        linkage: global ? "global" : "static",
        ...(returnsVoid ? { ret: "void" as const } : {}),
        ...(global && params.length ? { args: params.length } : {}),
      });
    }
  }
  return { funcs, ...(unexpressible && { unexpressible }) };
}

/** An int or enum after typedefs and qualifiers: what the kernel passes as a plain scalar. */
function isScalarType(btf: BTF, id: number): boolean {
  for (let t = btf.types[id], n = 0; t && n < 32; n++) {
    if (t.kind === "INT" || t.kind === "ENUM" || t.kind === "ENUM64") return true;
    if (
      t.kind !== "TYPEDEF" &&
      t.kind !== "CONST" &&
      t.kind !== "VOLATILE" &&
      t.kind !== "RESTRICT"
    )
      return false;
    t = btf.types[t.type];
  }
  return false;
}

function unsupported(spec: CollectionSpec, p: ProgramSpec): string | undefined {
  if (p.type === ProgType.UNSPEC) return "no program type";
  if (NEEDS_TARGET.has(p.type)) return "needs an attach target (BTF id)";
  if (p.coreRelocations && p.coreRelocations.length > 0) return "has CO-RE relocations";
  for (const r of p.references ?? []) {
    if (r.kind === "ksym" || r.kind === "kfunc") return `refers to ${r.kind} ${r.name}`;
    const m = spec.maps[r.map];
    if (!m) return `refers to a missing map ${r.map}`;
    if (NEEDS_BTF.has(m.type)) return `uses map ${r.map}, whose type needs BTF`;
  }
  return undefined;
}

/** The case's form of a map: no BTF ids or contents; a spin lock found by BTF. */
function caseMap(spec: CollectionSpec, m: MapSpec): CaseMap {
  const plain: MapSpec = {
    name: m.name,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags ?? 0,
    ...(m.innerMap ? { innerMap: caseMap(spec, m.innerMap).spec } : {}),
  };
  const off = spec.btf && m.btfValueTypeId ? spinLockOffset(spec.btf, m.btfValueTypeId) : undefined;
  return off === undefined ? { spec: plain } : { spec: plain, spinLockOff: off };
}

function spinLockOffset(btf: BTF, id: number): number | undefined {
  const t = btf.resolve(id);
  if (t.kind !== "STRUCT") return undefined;
  for (const member of t.members) {
    const mt = btf.resolve(member.type);
    if (mt.kind === "STRUCT" && mt.name === "bpf_spin_lock") return member.bitOffset / 8;
  }
  return undefined;
}
