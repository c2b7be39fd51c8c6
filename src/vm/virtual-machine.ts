/**
 * `VirtualMachine`: a whole `CollectionSpec` (an ELF object's programs and maps)
 * loaded into the userspace VM, in the shape of the kernel backend's collection:
 * `vm.programs.NAME.run(input)`, `vm.maps.NAME`.
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { CollectionSpec } from "../spec/collection-spec.ts";
import { describeMapType } from "../spec/map-spec.ts";
import type { ProgramSpec } from "../spec/program-spec.ts";
import { BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE } from "../uapi/index.ts";
import { VmError } from "./errors.ts";
import type { HelperSettings } from "./helpers.ts";
import type { HelperFunction } from "./interpreter.ts";
import { createVmMap } from "./maps/create.ts";
import type { VmMap, VmMapOptions } from "./maps/map.ts";
import { VmMapOfMaps } from "./maps/map-of-maps.ts";
import { VmProgArray } from "./maps/prog-array.ts";
import { VmMemory } from "./memory.ts";
import { VmProgram } from "./program.ts";

/** How to load a collection into the VM. */
export interface VirtualMachineOptions extends HelperSettings, Omit<VmMapOptions, "seed"> {
  /** Helpers by id, added to (or replacing) the defaults, for every program. */
  readonly helpers?: Readonly<Record<number, HelperFunction | undefined>>;
  /** Most instructions one run may execute. */
  readonly budget?: number;
}

/**
 * A collection loaded into the VM: every map of the spec created with its contents
 * (program arrays and maps of maps filled from their initial slots), every program
 * linked to those maps and sharing one address space, so tail calls and shared maps
 * work as in the kernel.
 *
 * CO-RE relocations are left as compiled (the object's own BTF is the target: the VM
 * has no kernel BTF to relocate against); weak kernel symbols read as 0; a program
 * that needs a kernel symbol or calls a kfunc cannot load.
 *
 * @example
 * ```ts
 * const vm = VirtualMachine.load(loadCollectionSpec(bytes));
 * const { retval } = vm.programs.xdp_count!.run({ data: packet });
 * console.log(vm.maps.counts!.lookup(key));
 * ```
 */
export class VirtualMachine {
  /** Programs by name. */
  readonly programs: Readonly<Record<string, VmProgram>>;
  /** Maps by name. */
  readonly maps: Readonly<Record<string, VmMap>>;
  /** The address space every program shares. */
  readonly memory: VmMemory;

  private constructor(
    programs: Record<string, VmProgram>,
    maps: Record<string, VmMap>,
    memory: VmMemory,
  ) {
    this.programs = programs;
    this.maps = maps;
    this.memory = memory;
  }

  /**
   * Creates the maps and programs of `spec`.
   * @throws MapSpecError for a map the kernel would refuse; RangeError for a map type
   * the VM lacks; VmError naming the program for references it cannot resolve.
   */
  static load(spec: CollectionSpec, opts: VirtualMachineOptions = {}): VirtualMachine {
    const memory = new VmMemory();
    const maps: Record<string, VmMap> = {};
    for (const [name, ms] of Object.entries(spec.maps)) maps[name] = createVmMap(ms, opts);
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

    const programs: Record<string, VmProgram> = {};
    for (const [name, ps] of Object.entries(spec.programs)) {
      programs[name] = new VmProgram(link(ps, indexOf), {
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
    return new VirtualMachine(programs, maps, memory);
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
  const bytes = ps.instructions.slice();
  const v = new DataView(bytes.buffer);
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
