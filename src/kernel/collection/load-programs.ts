/**
 * Load stage 3, programs: externs resolved (kconfig values, kallsyms addresses, kernel
 * BTF ids); each program's CO-RE relocations applied against the kernel's BTF, map fds
 * and values and extern ids patched in, then loaded with the BTF's func and line info
 * and `.rodata` bound to it. A verifier error at a poisoned CO-RE instruction becomes a
 * {@link CoreRelocationUnsatisfiedError} naming the relocation. Then program-array
 * slots, which name programs that all exist by then.
 * @module
 */
import { applyCoreRelocations, type CoreApplied, CoreResolver } from "../../btf/core.ts";
import type { CollectionSpec } from "../../spec/collection-spec.ts";
import type { ProgramSpec } from "../../spec/program-spec.ts";
import { copyBytes } from "../../uapi/bytes.ts";
import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL, MapType, ProgType } from "../../uapi/index.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import type { BpfMap } from "../maps/map.ts";
import { Program } from "../programs/program.ts";
import { VerifierError } from "../programs/verifier-error.ts";
import { CoreRelocationUnsatisfiedError } from "./errors.ts";
import { ExternError, type KernelBTFSource, type ResolvedKsym, resolveKsym } from "./externs.ts";
import type { ObjectBTF } from "./load-btf.ts";
import { u32 } from "./load-maps.ts";
import type { CollectionOptions } from "./options.ts";
import type { Resources } from "./resources.ts";

/** What this stage reads of the load options. */
export type ProgramStageOptions = Pick<CollectionOptions, "logLevel" | "logSize">;

/**
 * The programs to load: `names` (all of the object's when undefined), each checked to
 * exist and to have a program type.
 */
export function selectPrograms(
  spec: CollectionSpec,
  names: readonly string[] | undefined,
): ProgramSpec[] {
  return (names ?? Object.keys(spec.programs)).map((name) => {
    const p = spec.programs[name];
    if (!p) {
      throw new Error(
        `no program "${name}" in the object (programs: ${Object.keys(spec.programs).join(", ")})`,
      );
    }
    if (p.type === ProgType.UNSPEC) {
      throw new Error(
        `program "${name}" is in section "${p.section ?? "?"}", which names no program type (see libbpf's SEC() names)`,
      );
    }
    return p;
  });
}

/**
 * Loads `programs` into `res.programs`; returns what each one's CO-RE relocations
 * resolved to, by name.
 */
export function loadPrograms(
  spec: CollectionSpec,
  programs: readonly ProgramSpec[],
  opts: ProgramStageOptions,
  kernel: KernelBTFSource,
  btf: ObjectBTF,
  res: Resources,
): Record<string, CoreApplied | undefined> {
  const kernelNeeded = needsKernelBTF(spec, programs);
  const resolver =
    kernelNeeded && spec.btf
      ? new CoreResolver(spec.btf, {
          vmlinux: kernel.vmlinux(),
          modules: () => kernel.moduleNames().map((name) => ({ name, btf: kernel.module(name) })),
        })
      : undefined;
  const ksyms = new Map<string, ResolvedKsym>();
  const ksymOf = (name: string): ResolvedKsym => {
    let r = ksyms.get(name);
    if (r === undefined) {
      const e = spec.externs.find((x) => x.name === name);
      if (!e)
        throw new ExternError(name, "is referenced by a program but not declared as an extern");
      r = resolveKsym(spec, e, kernel);
      if (r.kind === "btf" && r.module !== undefined) {
        throw new ExternError(
          name,
          `lives in kernel module ${r.module}: module ksyms and kfuncs are not supported yet`,
        );
      }
      ksyms.set(name, r);
    }
    return r;
  };
  const core: Record<string, CoreApplied | undefined> = {};
  for (const p of programs) {
    let insns = p.instructions;
    let applied: CoreApplied | undefined;
    if (p.coreRelocations?.length) {
      if (!resolver)
        throw new Error(`program "${p.name}" has CO-RE relocations but the object has no BTF`);
      applied = applyCoreRelocations(insns, p.coreRelocations, resolver);
      insns = applied.instructions;
    }
    core[p.name] = applied;
    insns = patchReferences(
      p,
      insns === p.instructions ? copyBytes(insns) : insns,
      res,
      ksymOf,
      spec,
    );
    let prog: Program;
    try {
      prog = Program.load(
        { ...p, instructions: insns, btf: programBTF(p, btf) },
        {
          ...(opts.logLevel !== undefined && { logLevel: opts.logLevel }),
          ...(opts.logSize !== undefined && { logSize: opts.logSize }),
          ...(btf.fd !== undefined && { btfFd: btf.fd }),
        },
      );
    } catch (e) {
      if (e instanceof VerifierError && applied && e.instruction !== undefined) {
        const hit = applied.poisoned.find((x) => x.insn === e.instruction);
        if (hit) throw new CoreRelocationUnsatisfiedError(e, p.name, hit.insn, hit.resolution);
      }
      throw e;
    }
    res.programs.set(p.name, prog);
    // As libbpf: .rodata is bound to every program, so it lives as long as any of them
    // and `prog show` finds the object's bpf_metadata_* variables in it.
    const rodata = res.maps.get(".rodata");
    if (rodata) bindRodata(prog, rodata);
  }

  return core;
}

/**
 * Fills program-array slots from the spec (not those of borrowed or reused maps).
 * `partial`: only some programs were loaded, so a slot naming another is left empty.
 */
export function fillProgramArrays(spec: CollectionSpec, partial: boolean, res: Resources): void {
  for (const m of Object.values(spec.maps)) {
    if (m.type !== MapType.PROG_ARRAY || !m.contentRefs?.length) continue;
    const arr = res.maps.get(m.name)!;
    if (res.borrowed.has(arr) || res.reused.has(arr)) continue;
    for (const ref of m.contentRefs) {
      const prog = res.programs.get(ref.name);
      if (!prog) {
        if (spec.programs[ref.name] && partial) continue; // not loaded on request
        throw new Error(
          `program array "${m.name}" slot ${ref.key} names program "${ref.name}", which the object does not define`,
        );
      }
      arr.update(u32(ref.key), u32(prog.fd));
    }
  }
}

function needsKernelBTF(spec: CollectionSpec, programs: readonly ProgramSpec[]): boolean {
  return (
    programs.some((p) => (p.coreRelocations?.length ?? 0) > 0) ||
    spec.externs.some((e) => e.kind === "kfunc" || e.kind === "ksym")
  );
}

/** The lddw/call patches of map fds, map values and externs. */
function patchReferences(
  p: ProgramSpec,
  insns: Uint8Array,
  res: Resources,
  ksymOf: (name: string) => ResolvedKsym,
  spec: CollectionSpec,
): Uint8Array {
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  for (const r of p.references ?? []) {
    const at = r.insn * 8;
    switch (r.kind) {
      case "map":
      case "mapValue": {
        const map = res.maps.get(r.map);
        if (!map)
          throw new Error(
            `program "${p.name}" instruction ${r.insn} refers to map "${r.map}", which the object does not define`,
          );
        view.setInt32(at + 4, map.fd, true);
        break;
      }
      case "ksym": {
        const k = ksymOf(r.name);
        const setSrc = (src: number) => {
          insns[at + 1] = (insns[at + 1]! & 0x0f) | (src << 4);
        };
        if (k.kind === "btf") {
          setSrc(BPF_PSEUDO_BTF_ID);
          view.setInt32(at + 4, k.btfId, true);
          view.setInt32(at + 12, 0, true);
        } else {
          const addr = k.kind === "address" ? k.address : 0n;
          setSrc(0);
          view.setUint32(at + 4, Number(addr & 0xffffffffn), true);
          view.setUint32(at + 12, Number((addr >> 32n) & 0xffffffffn), true);
        }
        break;
      }
      case "kfunc": {
        const k = ksymOf(r.name);
        if (k.kind === "btf") {
          insns[at + 1] = (insns[at + 1]! & 0x0f) | (BPF_PSEUDO_KFUNC_CALL << 4);
          view.setInt32(at + 4, k.btfId, true);
          view.setInt16(at + 2, 0, true);
        } else {
          // A weak kfunc the kernel lacks: a call the verifier rejects only if reached
          // (libbpf's poison, helper id 2002000000 + extern index).
          const idx = spec.externs.findIndex((e) => e.name === r.name);
          insns[at + 1] = 0;
          view.setInt16(at + 2, 0, true);
          view.setInt32(at + 4, 2002000000 + Math.max(0, idx), true);
        }
        break;
      }
    }
  }
  return insns;
}

/** The program's func/line info for the collection's BTF (none without BTF). */
function programBTF(p: ProgramSpec, btf: ObjectBTF): ProgramSpec["btf"] {
  if (btf.fd === undefined || !p.btf) return undefined;
  if (btf.lineInfoValid) return p.btf;
  const { lineInfo: _l, lineInfoRecordSize: _s, ...rest } = p.btf;
  return rest;
}

/** Binds `.rodata` to `prog`; kernels before 5.10 have no BPF_PROG_BIND_MAP (libbpf then only warns). */
function bindRodata(prog: Program, rodata: BpfMap): void {
  try {
    prog.bindMap(rodata);
  } catch (e) {
    if (!(e instanceof NotSupportedError)) throw e;
  }
}
