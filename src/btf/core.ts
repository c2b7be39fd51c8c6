/**
 * CO-RE ("compile once, run everywhere"): resolving a program's BTF relocations
 * against the target kernel's BTF and patching its instructions, as libbpf does.
 *
 * For each relocation the local access (from the program's own BTF) is matched against
 * every *candidate* in the target: the types of the same kind whose essential name
 * (without a `___flavour` suffix) is the local type's. vmlinux is searched first, and
 * kernel modules only when vmlinux has no candidate at all. Every candidate that has
 * the access must give the same answer (else the relocation is ambiguous and fails);
 * when none has it, the relocation is *unsatisfied*: existence checks give 0 and the
 * other kinds poison their instruction with a call to helper 0xbad2310, which the
 * verifier rejects only if the instruction is reachable (`invalid func
 * unknown#195896080`). So `if (bpf_core_field_exists(...))` guards work.
 *
 * Pure: no `node:` imports. The target BTF is given by the caller.
 *
 * @module
 */

import type { BTF } from "./btf.ts";
import {
  essentialName,
  isAnyEnum,
  isComposite,
  kindsCompatible,
  skipModifiers,
  typesCompatible,
  typesMatch,
} from "./core-compat.ts";
import { CoreRelocationError } from "./core-error.ts";
import {
  type CoreSpec,
  CoreSpecError,
  isEnumKind,
  isFieldKind,
  isTypeKind,
  matchCoreSpec,
  parseCoreSpec,
  sizeOf,
} from "./core-spec.ts";
import { CoreReloKind, coreReloKindName } from "./ext.ts";
import type { BTFType, TypeId } from "./types.ts";

export { essentialName } from "./core-compat.ts";
export { CoreRelocationError } from "./core-error.ts";

/** The helper id a poisoned instruction calls: `call unknown#195896080` (libbpf's). */
export const CORE_POISON_HELPER = 0xbad2310;

/** One relocation to apply: the shape of `CoreRelocation` in src/spec. */
export interface CoreRelocationInput {
  /** Index of the instruction (8-byte slot) to patch. */
  readonly insn: number;
  /** Root type id in the local BTF. */
  readonly typeId: number;
  /** Access string, e.g. "0:1:2". */
  readonly access: string;
  /** `enum bpf_core_relo_kind`. */
  readonly kind: number;
}

/** A BTF to search for candidates, with a name for messages ("vmlinux", a module). */
export interface CoreTarget {
  readonly name: string;
  readonly btf: BTF;
}

/** Where relocations look for their target types. */
export interface CoreTargets {
  /** The kernel's own BTF. */
  readonly vmlinux: BTF;
  /**
   * Kernel modules' BTF (split on vmlinux), asked for only when vmlinux has no
   * candidate for a type; called at most once.
   */
  readonly modules?: () => Iterable<CoreTarget>;
}

/** A target type a relocation resolved to. */
export interface CoreTargetType {
  /** "vmlinux" or the module's name. */
  readonly source: string;
  readonly btf: BTF;
  /** The candidate root type's id in that BTF. */
  readonly typeId: TypeId;
  /** The access in the target, described like the local one. */
  readonly description: string;
}

/** What a relocation resolved to, before patching. */
export interface CoreResolution {
  readonly relocation: CoreRelocationInput;
  /** Kind, local type and access resolved to names: `field_byte_offset struct task_struct.pid (0:4)`. */
  readonly description: string;
  /** True when the target cannot satisfy it: the instruction becomes a poisoned call. */
  readonly poison: boolean;
  /** Why it is poisoned, when it is. */
  readonly reason?: string;
  /** The value the compiler computed from the local BTF (checked against the instruction). */
  readonly origValue: bigint;
  /** The value for the target kernel. */
  readonly newValue: bigint;
  /** Check the instruction holds `origValue` before patching. */
  readonly validate: boolean;
  /** Field byte size locally and in the target (load/store width), 0 when not a plain field. */
  readonly origSize: number;
  readonly newSize: number;
  /** The field's width changed in a way a load cannot follow (signed, or not an integer). */
  readonly failMemSizeAdjust: boolean;
  /** The target the value came from (the first matching candidate). */
  readonly target?: CoreTargetType;
}

/** An instruction replaced by a poisoned call. */
export interface PoisonedInstruction {
  /** The instruction index. */
  readonly insn: number;
  /** The relocation that could not be satisfied. */
  readonly resolution: CoreResolution;
}

/** The result of {@link applyCoreRelocations}. */
export interface CoreApplied {
  /** A patched copy of the instructions. */
  readonly instructions: Uint8Array;
  /** Every relocation's resolution, in input order. */
  readonly resolutions: readonly CoreResolution[];
  /** The instructions that were poisoned. */
  readonly poisoned: readonly PoisonedInstruction[];
}

interface FieldValue {
  value: bigint;
  size: number;
  typeId: TypeId;
  validate: boolean;
}

/** Per target BTF: flavoured names (`x___y`) by their essential name. */
const flavouredNames = new WeakMap<BTF, Map<string, string[]>>();

/**
 * The strings of `btf`'s own string section that have a `___flavour` suffix, by
 * essential name. One substring search over the section: kernels rarely have any.
 */
function flavoured(btf: BTF): Map<string, string[]> {
  let m = flavouredNames.get(btf);
  if (m === undefined) {
    m = new Map();
    for (const name of btf.strings.stringsContaining("___")) {
      const ess = essentialName(name);
      if (ess !== name) {
        const list = m.get(ess);
        if (list === undefined) m.set(ess, [name]);
        else if (!list.includes(name)) list.push(name);
      }
    }
    flavouredNames.set(btf, m);
  }
  return m;
}

/** The types of `btf` itself (not its base's) whose essential name is `name`, by id. */
function typesNamed(btf: BTF, name: string): BTFType[] {
  const own = (t: BTFType) => t.id >= btf.firstId && essentialName(t.name) === name;
  const out = btf.findAllByName(name).filter(own);
  for (const f of flavoured(btf).get(name) ?? []) out.push(...btf.findAllByName(f).filter(own));
  return out.sort((a, b) => a.id - b.id);
}

interface Candidate {
  readonly target: CoreTarget;
  readonly typeId: TypeId;
}

/**
 * Resolves CO-RE relocations of one object (its local BTF) against target BTF.
 * Candidate lists are cached per local type, so one resolver should serve every
 * program of an object.
 *
 * @example
 * ```ts
 * const resolver = new CoreResolver(spec.btf, { vmlinux: vmlinuxBTF() });
 * const { instructions, poisoned } = applyCoreRelocations(prog.instructions, prog.coreRelocations, resolver);
 * ```
 */
export class CoreResolver {
  /** The program's own BTF. */
  readonly local: BTF;
  readonly #targets: CoreTargets;
  #modules: CoreTarget[] | undefined;
  readonly #candidates = new Map<TypeId, Candidate[]>();

  constructor(local: BTF, targets: CoreTargets) {
    this.local = local;
    this.#targets = targets;
  }

  /** The target types a local type may stand for (vmlinux first, then modules). */
  candidates(localId: TypeId): readonly Candidate[] {
    let c = this.#candidates.get(localId);
    if (c === undefined) {
      const lt = this.local.type(localId);
      const name = essentialName(lt.name);
      const find = (target: CoreTarget): Candidate[] =>
        typesNamed(target.btf, name)
          .filter((t) => kindsCompatible(t, lt))
          .map((t) => ({ target, typeId: t.id }));
      c = find({ name: "vmlinux", btf: this.#targets.vmlinux });
      if (c.length === 0 && this.#targets.modules) {
        this.#modules ??= [...this.#targets.modules()];
        for (const m of this.#modules) c.push(...find(m));
      }
      this.#candidates.set(localId, c);
    }
    return c;
  }

  /**
   * Resolves one relocation (nothing is patched).
   *
   * @throws {CoreRelocationError} for an access the local BTF cannot give a meaning to,
   * an anonymous root type, or candidates that disagree
   */
  resolve(relo: CoreRelocationInput): CoreResolution {
    const local = this.local;
    let localSpec: CoreSpec;
    const fallback = `${coreReloKindName(relo.kind)} [${relo.typeId}] (${relo.access})`;
    try {
      localSpec = parseCoreSpec(local, relo.typeId, relo.access, relo.kind);
    } catch (e) {
      if (e instanceof CoreSpecError || e instanceof RangeError) {
        throw new CoreRelocationError((e as Error).message, relo.insn, fallback, { cause: e });
      }
      throw e;
    }
    const description = `${coreReloKindName(relo.kind)} ${describeSpec(localSpec)}`;
    const fail = (reason: string): never => {
      throw new CoreRelocationError(reason, relo.insn, description);
    };

    if (relo.kind === CoreReloKind.TYPE_ID_LOCAL) {
      const v = BigInt(relo.typeId);
      return base(relo, description, { origValue: v, newValue: v, validate: false });
    }
    if (local.type(relo.typeId).name === "") {
      fail("CO-RE cannot relocate anonymous types (no name to look up in the kernel's BTF)");
    }

    const orig = this.#calc(localSpec, relo, true);
    const cands = this.candidates(relo.typeId);
    let chosen: { spec: CoreSpec; cand: Candidate; res: Calc } | undefined;
    for (const cand of cands) {
      const targetSpec = this.#match(localSpec, cand);
      if (targetSpec === undefined) continue;
      const res = this.#calc(targetSpec, relo, false);
      if (chosen === undefined) {
        chosen = { spec: targetSpec, cand, res };
      } else if (targetSpec.bitOffset !== chosen.spec.bitOffset) {
        fail(
          `field offset ambiguity: ${describeCandidate(chosen)} is at bit ${chosen.spec.bitOffset}, ${describeCandidate({ spec: targetSpec, cand })} at bit ${targetSpec.bitOffset}`,
        );
      } else if (res.poison !== chosen.res.poison || res.value.value !== chosen.res.value.value) {
        fail(
          `relocation decision ambiguity: ${describeCandidate(chosen)} gives ${chosen.res.poison ? "poison" : chosen.res.value.value}, ${describeCandidate({ spec: targetSpec, cand })} gives ${res.poison ? "poison" : res.value.value}`,
        );
      }
    }
    const targetRes = chosen?.res ?? this.#calc(undefined, relo, false);
    const poison = orig.poison || targetRes.poison;
    let failMemSizeAdjust = false;
    if (
      !poison &&
      chosen !== undefined &&
      isFieldKind(relo.kind) &&
      orig.value.size !== targetRes.value.size
    ) {
      const ot = local.type(orig.value.typeId);
      const nt = chosen.spec.btf.type(targetRes.value.typeId);
      const unsignedInts = ot.kind === "INT" && nt.kind === "INT" && !ot.signed && !nt.signed;
      failMemSizeAdjust = !(ot.kind === "PTR" && nt.kind === "PTR") && !unsignedInts;
    }
    return {
      relocation: relo,
      description,
      poison,
      ...(poison && { reason: this.#whyUnsatisfied(relo, cands.length, localSpec) }),
      origValue: orig.value.value,
      newValue: targetRes.value.value,
      validate: orig.value.validate,
      origSize: orig.value.size,
      newSize: targetRes.value.size,
      failMemSizeAdjust,
      ...(chosen && {
        target: {
          source: chosen.cand.target.name,
          btf: chosen.spec.btf,
          typeId: chosen.cand.typeId,
          description: describeSpec(chosen.spec),
        },
      }),
    };
  }

  #whyUnsatisfied(relo: CoreRelocationInput, candidates: number, spec: CoreSpec): string {
    const lt = this.local.type(relo.typeId);
    const name = essentialName(lt.name);
    const where = this.#targets.modules ? "vmlinux or any module" : "vmlinux";
    if (candidates === 0) {
      return `the kernel's BTF has no ${kindWord(lt)} named '${name}' (searched ${where})`;
    }
    const what = isEnumKind(relo.kind)
      ? `enumerator ${spec.accessors[0]?.name}`
      : `field ${fieldPath(spec) || relo.access}`;
    return `no ${kindWord(lt)} '${name}' in the kernel's BTF (${candidates} candidate${candidates === 1 ? "" : "s"}) has a compatible ${what}`;
  }

  #match(localSpec: CoreSpec, cand: Candidate): CoreSpec | undefined {
    const target = cand.target.btf;
    if (isTypeKind(localSpec.kind)) {
      const ok =
        localSpec.kind === CoreReloKind.TYPE_MATCHES
          ? typesMatch(this.local, localSpec.rootTypeId, target, cand.typeId)
          : typesCompatible(this.local, localSpec.rootTypeId, target, cand.typeId);
      return ok
        ? {
            btf: target,
            rootTypeId: cand.typeId,
            kind: localSpec.kind,
            raw: [0],
            accessors: [],
            bitOffset: 0,
          }
        : undefined;
    }
    return matchCoreSpec(localSpec, target, cand.typeId);
  }

  #calc(spec: CoreSpec | undefined, relo: CoreRelocationInput, local: boolean): Calc {
    const kind = relo.kind;
    const plain = (value: bigint, validate = true): Calc => ({
      poison: false,
      value: { value, size: 0, typeId: 0, validate },
    });
    if (isFieldKind(kind)) {
      if (kind === CoreReloKind.FIELD_EXISTS) return plain(spec ? 1n : 0n);
      if (spec === undefined) return { poison: true, value: ZERO_FIELD };
      return { poison: false, value: fieldValue(spec, kind, relo, local) };
    }
    if (isTypeKind(kind)) {
      if (spec === undefined) return plain(0n);
      switch (kind) {
        case CoreReloKind.TYPE_ID_TARGET:
          return plain(BigInt(spec.rootTypeId), false);
        case CoreReloKind.TYPE_EXISTS:
        case CoreReloKind.TYPE_MATCHES:
          return plain(1n);
        case CoreReloKind.TYPE_SIZE:
          return plain(BigInt(sizeOf(spec.btf, spec.rootTypeId)));
      }
    }
    if (isEnumKind(kind)) {
      if (kind === CoreReloKind.ENUMVAL_EXISTS) return plain(spec ? 1n : 0n);
      if (spec === undefined) return { poison: true, value: ZERO_FIELD };
      const acc = spec.accessors[0]!;
      const t = spec.btf.type(acc.typeId);
      if (!isAnyEnum(t)) throw new CoreSpecError(`[${acc.typeId}] is not an enum`);
      const v = t.values[acc.idx]!.value;
      // libbpf reads a 32-bit enumerator as __s32 and widens it with its sign.
      const value =
        typeof v === "bigint" ? BigInt.asUintN(64, v) : BigInt.asUintN(64, BigInt(v | 0));
      return plain(value);
    }
    throw new CoreRelocationError(
      `unknown relocation kind ${kind}`,
      relo.insn,
      `${coreReloKindName(kind)} [${relo.typeId}] (${relo.access})`,
    );
  }
}

interface Calc {
  readonly poison: boolean;
  readonly value: FieldValue;
}

const ZERO_FIELD: FieldValue = { value: 0n, size: 0, typeId: 0, validate: true };

function base(
  relo: CoreRelocationInput,
  description: string,
  v: { origValue: bigint; newValue: bigint; validate: boolean },
): CoreResolution {
  return {
    relocation: relo,
    description,
    poison: false,
    ...v,
    origSize: 0,
    newSize: 0,
    failMemSizeAdjust: false,
  };
}

/** libbpf's `bpf_core_calc_field_relo` for a spec that exists. */
function fieldValue(
  spec: CoreSpec,
  kind: number,
  relo: CoreRelocationInput,
  local: boolean,
): FieldValue {
  const btf = spec.btf;
  const acc = spec.accessors[spec.accessors.length - 1]!;
  if (acc.name === undefined) {
    // An array element (or the root pointer itself): only offset and size make sense.
    const sz = sizeOf(btf, acc.typeId);
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) {
      return { value: BigInt(spec.bitOffset / 8), size: sz, typeId: acc.typeId, validate: true };
    }
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) {
      return { value: BigInt(sz), size: 0, typeId: 0, validate: true };
    }
    throw new CoreRelocationError(
      `${coreReloKindName(kind)} cannot be applied to an array element access`,
      relo.insn,
      `${coreReloKindName(kind)} ${describeSpec(spec)}`,
    );
  }
  const t = btf.type(acc.typeId);
  if (!isComposite(t)) throw new CoreSpecError(`[${acc.typeId}] is not a struct or union`);
  const m = t.members[acc.idx]!;
  const mt = skipModifiers(btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSize = m.bitfieldSize;
  const bitfield = bitSize > 0;
  let byteSize: number;
  let byteOff: number;
  if (bitfield) {
    byteSize = "size" in mt ? (mt as { size: number }).size : 0;
    if (byteSize === 0) throw new CoreSpecError(`bitfield of [${mt.id}] has no size`);
    byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    while (bitOff + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8) {
        throw new CoreRelocationError(
          "the bitfield cannot be read with one 64-bit load",
          relo.insn,
          `${coreReloKindName(kind)} ${describeSpec(spec)}`,
        );
      }
      byteSize *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    }
  } else {
    byteSize = sizeOf(btf, mt.id);
    byteOff = bitOff / 8;
    bitSize = byteSize * 8;
  }
  // Offsets and sizes of bitfields are the compiler's choice: only signedness and the
  // right shift are checked against the instruction (as libbpf does).
  let validate = local ? !bitfield : false;
  let value: bigint;
  let size = 0;
  let typeId = 0;
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      value = BigInt(byteOff);
      if (!bitfield) {
        size = byteSize;
        typeId = mt.id;
      }
      break;
    case CoreReloKind.FIELD_BYTE_SIZE:
      value = BigInt(byteSize);
      break;
    case CoreReloKind.FIELD_SIGNED:
      value = (isAnyEnum(mt) && mt.signed) || (mt.kind === "INT" && mt.signed) ? 1n : 0n;
      validate = local;
      break;
    case CoreReloKind.FIELD_LSHIFT_U64:
      value = BigInt(64 - (bitOff + bitSize - byteOff * 8));
      break;
    case CoreReloKind.FIELD_RSHIFT_U64:
      value = BigInt(64 - bitSize);
      validate = local;
      break;
    default:
      throw new CoreSpecError(`unexpected field relocation kind ${kind}`);
  }
  return { value, size, typeId, validate };
}

function describeCandidate(c: { spec: CoreSpec; cand: Candidate }): string {
  return `${c.cand.target.name} [${c.cand.typeId}]`;
}

/** `struct`, `union`, `enum`, `typedef`... for messages. */
function kindWord(t: BTFType): string {
  switch (t.kind) {
    case "STRUCT":
      return "struct";
    case "UNION":
      return "union";
    case "ENUM":
    case "ENUM64":
      return "enum";
    case "FWD":
      return t.fwdKind;
    default:
      return t.kind.toLowerCase();
  }
}

/** `.real_parent.tgid`, `[3].x`: the access after the root. */
function fieldPath(spec: CoreSpec): string {
  let out = "";
  spec.accessors.forEach((a, i) => {
    if (i === 0) {
      if (a.idx !== 0) out += `[${a.idx}]`;
    } else out += a.name === undefined ? `[${a.idx}]` : `.${a.name}`;
  });
  return out;
}

/**
 * A relocation's access in words: `struct task_struct.real_parent (0:57)`,
 * `enum pid_type::PIDTYPE_TGID = 1`, `struct task_struct`.
 */
export function describeSpec(spec: CoreSpec): string {
  const root = spec.btf.type(spec.rootTypeId);
  const name = `${kindWord(root)} ${root.name || `[${root.id}]`}`;
  if (isTypeKind(spec.kind)) return name;
  if (isEnumKind(spec.kind)) {
    const a = spec.accessors[0]!;
    const t = spec.btf.type(a.typeId);
    const v = isAnyEnum(t) ? t.values[a.idx]?.value : undefined;
    return `${name}::${a.name}${v === undefined ? "" : ` = ${v}`}`;
  }
  return `${name}${fieldPath(spec)} (${spec.raw.join(":")})`;
}

// ---- patching ------------------------------------------------------------------------

const BPF_LD = 0x00;
const BPF_LDX = 0x01;
const BPF_ST = 0x02;
const BPF_STX = 0x03;
const BPF_ALU = 0x04;
const BPF_ALU64 = 0x07;
const BPF_K = 0x00;
const BPF_X = 0x08;
const BPF_JMP_CALL = 0x85;
const LDDW = 0x18;
const SIZE_BYTES: Record<number, number> = { 0: 4, 8: 2, 16: 1, 24: 8 };
const BYTES_SIZE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };

/** Replaces instruction `i` (and the second half of an lddw) by the poisoned call. */
export function poisonInstruction(insns: Uint8Array, i: number): void {
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const at = i * 8;
  const lddw = insns[at] === LDDW;
  for (const j of lddw ? [i + 1, i] : [i]) {
    const o = j * 8;
    if (o + 8 > insns.length) continue;
    insns[o] = BPF_JMP_CALL;
    insns[o + 1] = 0;
    view.setInt16(o + 2, 0, true);
    view.setInt32(o + 4, CORE_POISON_HELPER, true);
  }
}

/**
 * Writes a resolution into `insns` (in place): the ALU immediate, the LDX/ST/STX
 * offset (and load size when the field's width changed), or the lddw's 64-bit value;
 * or the poisoned call. Returns true when the instruction was poisoned.
 *
 * @throws {CoreRelocationError} when the instruction is not one CO-RE patches, or does
 * not hold the value the compiler computed (the object and its BTF disagree)
 */
export function patchInstruction(insns: Uint8Array, res: CoreResolution): boolean {
  const i = res.relocation.insn;
  const at = i * 8;
  const err = (reason: string) => new CoreRelocationError(reason, i, res.description);
  if (at < 0 || at + 8 > insns.length) {
    throw err(`instruction ${i} is outside the program (${insns.length / 8} instructions)`);
  }
  if (res.poison) {
    poisonInstruction(insns, i);
    return true;
  }
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const code = insns[at]!;
  const cls = code & 0x07;
  const orig = res.origValue;
  const neu = res.newValue;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      if ((code & BPF_X) !== BPF_K) throw err("ALU instruction with a register source");
      const imm = view.getInt32(at + 4, true);
      if (res.validate && BigInt.asUintN(64, BigInt(imm)) !== orig) {
        throw err(`the instruction's immediate is ${imm >>> 0}, the local BTF says ${orig}`);
      }
      view.setInt32(at + 4, Number(BigInt.asIntN(32, neu)), true);
      return false;
    }
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX: {
      const off = view.getInt16(at + 2, true);
      if (res.validate && BigInt(off) !== orig) {
        throw err(`the instruction's offset is ${off}, the local BTF says ${orig}`);
      }
      if (neu > 0x7fffn) throw err(`offset ${neu} does not fit a load/store offset (max 32767)`);
      if (res.failMemSizeAdjust) {
        // The field changed width and is not an unsigned integer or a pointer: any
        // load would read a wrong value, so the instruction is poisoned (libbpf too).
        poisonInstruction(insns, i);
        return true;
      }
      view.setInt16(at + 2, Number(neu), true);
      if (res.newSize !== res.origSize) {
        const have = SIZE_BYTES[code & 0x18]!;
        if (have !== res.origSize) {
          throw err(`the instruction accesses ${have} bytes, the local field is ${res.origSize}`);
        }
        const sz = BYTES_SIZE[res.newSize];
        if (sz === undefined)
          throw err(`the kernel's field is ${res.newSize} bytes: no load has that size`);
        insns[at] = (code & ~0x18) | sz;
      }
      return false;
    }
    case BPF_LD: {
      if (
        code !== LDDW ||
        at + 16 > insns.length ||
        insns[at + 1]! >> 4 !== 0 ||
        view.getInt16(at + 2, true) !== 0 ||
        insns[at + 8] !== 0 ||
        insns[at + 9] !== 0 ||
        view.getInt16(at + 10, true) !== 0
      ) {
        throw err("the lddw instruction has an unexpected form");
      }
      const imm =
        BigInt(view.getUint32(at + 4, true)) | (BigInt(view.getUint32(at + 12, true)) << 32n);
      if (res.validate && imm !== orig) {
        throw err(`the lddw holds ${imm}, the local BTF says ${orig}`);
      }
      view.setUint32(at + 4, Number(neu & 0xffffffffn), true);
      view.setUint32(at + 12, Number((neu >> 32n) & 0xffffffffn), true);
      return false;
    }
    default:
      throw err(
        `instruction class 0x${cls.toString(16)} (opcode 0x${code.toString(16)}) is not one CO-RE relocates`,
      );
  }
}

/**
 * Resolves and applies `relocations` to a copy of `instructions`.
 *
 * @throws {CoreRelocationError} for relocations that cannot be applied (unsatisfiable
 * ones poison their instruction instead, see the module comment)
 */
export function applyCoreRelocations(
  instructions: Uint8Array,
  relocations: readonly CoreRelocationInput[],
  resolver: CoreResolver,
): CoreApplied {
  const insns = instructions.slice();
  const resolutions: CoreResolution[] = [];
  const poisoned: PoisonedInstruction[] = [];
  for (const relo of relocations) {
    const res = resolver.resolve(relo);
    resolutions.push(res);
    if (patchInstruction(insns, res)) {
      const why =
        res.poison || !res.failMemSizeAdjust
          ? res
          : {
              ...res,
              reason: `the field is ${res.origSize} bytes in the program and ${res.newSize} in the kernel, and is not an unsigned integer or a pointer`,
            };
      poisoned.push({ insn: relo.insn, resolution: why });
    }
  }
  return { instructions: insns, resolutions, poisoned };
}
