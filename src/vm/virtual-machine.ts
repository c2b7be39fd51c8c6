/**
 * `VirtualMachine`: a whole `CollectionSpec` (an ELF object's programs and maps)
 * loaded into the userspace VM, in the shape of the kernel backend's collection:
 * `vm.programs.NAME.run(input)`, `vm.maps.NAME`.
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { BTF } from "../btf/btf.ts";
import { applyCoreRelocations, type CoreApplied, CoreResolver } from "../btf/core.ts";
import type { Backend, LoadedCollection, LoadOptions } from "../spec/backend.ts";
import type { CollectionSpec, VariableSpec } from "../spec/collection-spec.ts";
import { describeMapType } from "../spec/map-spec.ts";
import { named } from "../spec/named.ts";
import type { ProgramSpec } from "../spec/program-spec.ts";
import { constantPatches } from "../spec/variable-values.ts";
import { plainBytes, viewOf } from "../uapi/bytes.ts";
import { BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, MapFlags } from "../uapi/index.ts";
import { VmError } from "./errors.ts";
import type { HelperSettings } from "./helpers.ts";
import type { HelperFunction } from "./interpreter.ts";
import type { JitMode, JitTarget } from "./jit/index.ts";
import { VmArrayMap } from "./maps/array.ts";
import { createVmMap } from "./maps/create.ts";
import type { VmMap, VmMapOptions } from "./maps/map.ts";
import { VmMapOfMaps } from "./maps/map-of-maps.ts";
import { VmProgArray } from "./maps/prog-array.ts";
import { VmMemory } from "./memory.ts";
import { VmProgram, type VmProgramOptions } from "./program.ts";
import { VmVariable } from "./variables.ts";
import { type VmVerification, verifyForVm } from "./verify-load.ts";

/** How to load a collection into the VM. */
export interface VirtualMachineOptions extends HelperSettings, Omit<VmMapOptions, "seed"> {
  /** Helpers by id, added to (or replacing) the defaults, for every program. */
  readonly helpers?: Readonly<Record<number, HelperFunction | undefined>>;
  /** Most instructions one run may execute. */
  readonly budget?: number;
  /** Iterations a function's may_goto allows (see {@link VmProgramOptions.mayGotoBudget}). */
  readonly mayGotoBudget?: number;
  /** Which engine runs the programs (see {@link VmProgramOptions.jit}). */
  readonly jit?: JitMode;
  /** Runs before "auto" compiles a program (see {@link VmProgramOptions.jitThreshold}). */
  readonly jitThreshold?: number;
  /** What the JIT compiles to: wasm or JS per program (see {@link VmProgramOptions.jitTarget}). */
  readonly jitTarget?: JitTarget;
  /**
   * New initial values of read-only global variables (`const volatile` in `.rodata`),
   * as the kernel backend's `constants` option: bytes of the variable's size, or a
   * number/bigint stored little-endian.
   */
  readonly constants?: Readonly<Record<string, Uint8Array | number | bigint>>;
  /**
   * The kernel BTF to apply CO-RE relocations against (for example the kernel
   * backend's `vmlinuxBTF()`, or BTF read from a file in a browser). Without it the
   * instructions stay as compiled, laid out for the object's own BTF.
   */
  readonly coreTarget?: BTF;
  /**
   * Verify each program as Linux would before it may run (default true): a program the
   * kernel would refuse throws {@link VmVerifierError} with the kernel's error line.
   * `VirtualMachine.verification` says what was judged and what could not be.
   */
  readonly verify?: boolean;
}

/**
 * A collection loaded into the VM: every map of the spec created with its contents
 * (program arrays and maps of maps filled from their initial slots), every program
 * linked to those maps and sharing one address space, so tail calls and shared maps
 * work as in the kernel.
 *
 * CO-RE relocations are applied against {@link VirtualMachineOptions.coreTarget} when
 * given, else left as compiled (laid out for the object's own BTF); weak kernel
 * symbols read as 0; a program
 * that needs a kernel symbol or calls a kfunc cannot load.
 *
 * @example
 * ```ts
 * const vm = VirtualMachine.load(loadCollectionSpec(bytes));
 * const { retval } = vm.programs.xdp_count!.run({ data: packet });
 * console.log(vm.maps.counts!.lookup(key));
 * ```
 */
export class VirtualMachine<
  M extends string = string,
  P extends string = string,
  V extends string = string,
> implements LoadedCollection<M, P, V>
{
  /** Programs by name. */
  readonly programs: Readonly<Record<P, VmProgram>>;
  /** Maps by their spec name (global data maps as ".data", ".bss", ".rodata"...). */
  readonly maps: Readonly<Record<M, VmMap>>;
  /** Global variables by name. */
  readonly variables: Readonly<Record<V, VmVariable>>;
  /** The address space every program shares. */
  readonly memory: VmMemory;
  /**
   * What each program's CO-RE relocations resolved to, by program name (undefined
   * without {@link VirtualMachineOptions.coreTarget} or relocations).
   */
  readonly core: Readonly<Record<P, CoreApplied | undefined>>;
  /** What the verifier said about each program, by name (see {@link VirtualMachineOptions.verify}). */
  readonly verification: Readonly<Record<P, VmVerification>>;

  private constructor(
    programs: Record<string, VmProgram>,
    maps: Record<string, VmMap>,
    variables: Record<string, VmVariable>,
    memory: VmMemory,
    core: Record<string, CoreApplied | undefined>,
    verification: Record<string, VmVerification>,
  ) {
    this.core = core as Record<P, CoreApplied | undefined>;
    this.verification = verification as Record<P, VmVerification>;
    this.programs = programs as Record<P, VmProgram>;
    this.maps = maps as Record<M, VmMap>;
    this.variables = variables as Record<V, VmVariable>;
    this.memory = memory;
  }

  /**
   * The map named `name`.
   * @throws Error listing the collection's maps when there is none by that name
   */
  map(name: string): VmMap {
    return named("map", this.maps as Record<string, VmMap>, name);
  }

  /**
   * The program named `name`.
   * @throws Error listing the collection's programs when there is none by that name
   */
  program(name: string): VmProgram {
    return named("program", this.programs as Record<string, VmProgram>, name);
  }

  /**
   * The variable named `name`.
   * @throws Error listing the collection's variables when there is none by that name
   */
  variable(name: string): VmVariable {
    return named("variable", this.variables as Record<string, VmVariable>, name);
  }

  /**
   * Creates the maps and programs of `spec`.
   * @throws MapSpecError for a map the kernel would refuse; RangeError for a map type
   * the VM lacks; VmError naming the program for references it cannot resolve;
   * VmVerifierError for a program the verifier rejects (unless `verify: false`).
   */
  static load<M extends string = string, P extends string = string, V extends string = string>(
    spec: CollectionSpec,
    opts: VirtualMachineOptions = {},
  ): VirtualMachine<M, P, V> {
    const memory = new VmMemory();
    const maps: Record<string, VmMap> = {};
    const patches = constantPatches(spec, opts.constants ?? {});
    for (const [name, ms0] of Object.entries(spec.maps)) {
      let ms = ms0;
      const patch = patches.get(name);
      if (patch) {
        const value = (ms.contents?.[0]?.value ?? new Uint8Array(ms.valueSize)).slice();
        for (const [off, bytes] of patch) value.set(bytes, off);
        ms = { ...ms, contents: [{ key: new Uint8Array(4), value }] };
      }
      const map = createVmMap(ms, opts);
      if (ms.freeze) map.freeze();
      maps[name] = map;
    }
    const list = Object.values(maps);
    const indexOf = new Map(Object.keys(maps).map((n, i) => [n, i]));

    for (const [name, ms] of Object.entries(spec.maps)) {
      const outer = maps[name];
      if (!(outer instanceof VmMapOfMaps)) continue;
      for (const ref of ms.contentRefs ?? []) {
        const inner = maps[ref.name];
        if (!inner)
          throw new VmError(
            `map "${name}": slot ${ref.key} names map "${ref.name}", which is not in the collection`,
          );
        const key = new Uint8Array(outer.keySize);
        new DataView(key.buffer).setUint32(0, ref.key, true);
        outer.set(key, inner);
      }
    }

    const target = opts.coreTarget;
    const resolver =
      target && spec.btf ? new CoreResolver(spec.btf, { vmlinux: target }) : undefined;
    const programs: Record<string, VmProgram> = {};
    const core: Record<string, CoreApplied | undefined> = {};
    const verification: Record<string, VmVerification> = {};
    const mapSpecs = Object.values(spec.maps);
    for (const [name, ps0] of Object.entries(spec.programs)) {
      let ps = ps0;
      if (resolver && ps.coreRelocations?.length) {
        const applied = applyCoreRelocations(ps.instructions, ps.coreRelocations, resolver);
        core[name] = applied;
        ps = { ...ps, instructions: applied.instructions };
      }
      const linked = link(ps, indexOf);
      verification[name] =
        opts.verify === false
          ? { verdict: "unverified", reason: "verify: false" }
          : verifyForVm(spec, ps, name, linked, mapSpecs);
      programs[name] = new VmProgram(linked, {
        ...opts,
        type: ps.type,
        name,
        maps: list,
        memory,
      });
    }

    for (const [name, ms] of Object.entries(spec.maps)) {
      const jt = maps[name];
      if (!(jt instanceof VmProgArray)) continue;
      for (const ref of ms.contentRefs ?? []) {
        const prog = programs[ref.name];
        if (!prog)
          throw new VmError(
            `${describeMapType(ms.type)} map "${name}": slot ${ref.key} names program "${ref.name}", which is not in the collection`,
          );
        jt.set(ref.key, prog);
      }
    }
    const variables: Record<string, VmVariable> = {};
    for (const v of Object.values(spec.variables) as VariableSpec[]) {
      const map = maps[v.map];
      if (!(map instanceof VmArrayMap)) continue;
      variables[v.name] = new VmVariable(v, map, map.frozen || (map.flags & MapFlags.RDONLY) !== 0);
    }
    return new VirtualMachine<M, P, V>(programs, maps, variables, memory, core, verification);
  }

  /** Nothing to release in the VM; here so code can treat both backends alike. */
  close(): void {}

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The program's instructions with its references resolved for the VM: a map reference
 * becomes a map index (BPF_PSEUDO_MAP_IDX / _IDX_VALUE into the collection's maps), a
 * weak kernel symbol reads as 0.
 */
function link(ps: ProgramSpec, indexOf: ReadonlyMap<string, number>): Uint8Array {
  const bytes = plainBytes(ps.instructions).slice();
  const v = viewOf(bytes);
  for (const ref of ps.references ?? []) {
    const at = ref.insn * 8;
    if (at + 8 > bytes.length)
      throw new VmError(`program "${ps.name}": reference at instruction ${ref.insn} is outside it`);
    if (ref.kind === "map" || ref.kind === "mapValue") {
      const idx = indexOf.get(ref.map);
      if (idx === undefined)
        throw new VmError(
          `program "${ps.name}": instruction ${ref.insn} names map "${ref.map}", which is not in the collection`,
          ref.insn,
        );
      const src = ref.kind === "map" ? BPF_PSEUDO_MAP_IDX : BPF_PSEUDO_MAP_IDX_VALUE;
      bytes[at + 1] = ((bytes[at + 1] as number) & 0x0f) | (src << 4);
      v.setInt32(at + 4, idx, true);
      continue;
    }
    if (ref.kind === "ksym" && ref.weak) {
      bytes[at + 1] = (bytes[at + 1] as number) & 0x0f;
      v.setInt32(at + 4, 0, true);
      if (at + 16 <= bytes.length) v.setInt32(at + 12, 0, true);
      continue;
    }
    throw new VmError(
      `program "${ps.name}": instruction ${ref.insn} needs the kernel ${ref.kind === "kfunc" ? "function" : "symbol"} ${ref.name}, which the VM does not have`,
      ref.insn,
    );
  }
  return bytes;
}

/**
 * The VM as a {@link Backend}: `vmBackend.load(spec)` is `VirtualMachine.load(spec)`,
 * for code written once for the VM and the kernel (`kernelBackend` from "tsbpf/kernel").
 */
export const vmBackend: Backend = {
  name: "vm",
  load<M extends string = string, P extends string = string, V extends string = string>(
    spec: CollectionSpec,
    opts: LoadOptions = {},
  ): VirtualMachine<M, P, V> {
    return VirtualMachine.load<M, P, V>(spec, opts);
  },
};
