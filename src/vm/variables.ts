/**
 * Global variables of a collection loaded into the VM: a named range of a global-data
 * array map's single value (`.data`, `.bss`, `.rodata`...), in the shape of the kernel
 * backend's `Variable` (src/kernel/collection/variables.ts). VM arrays are addressable
 * memory, so reads see the program's writes at once and writes are seen by the program.
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { VariableSpec } from "../spec/collection-spec.ts";
import { GlobalVariable } from "../spec/variable.ts";
import type { VmArrayMap } from "./maps/array.ts";

/**
 * A global variable of a collection in the VM.
 *
 * @example
 * ```ts
 * vm.variables.packets_seen!.set(0n);
 * vm.programs.xdp_count!.run({ data: new Uint8Array(64) });
 * console.log(vm.variables.packets_seen!.toBigInt()); // 1n
 * ```
 */
export class VmVariable extends GlobalVariable {
  /** The map holding the variable. */
  readonly map: VmArrayMap;

  constructor(spec: VariableSpec, map: VmArrayMap, readOnly: boolean) {
    super(spec, readOnly);
    this.map = map;
  }

  /** The variable's bytes in VM memory (a live view: the program's writes show at once). */
  get memory(): Uint8Array {
    return this.map.values.subarray(this.offset, this.offset + this.size);
  }

  /** A copy of the variable's current bytes. */
  get(): Uint8Array {
    return this.memory.slice();
  }

  protected write(bytes: Uint8Array): void {
    this.memory.set(bytes);
  }
}
