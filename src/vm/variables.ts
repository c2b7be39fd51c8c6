/**
 * Global variables of a collection loaded into the VM: a named range of a global-data
 * array map's single value (`.data`, `.bss`, `.rodata`...), in the shape of the kernel
 * backend's `Variable` (src/kernel/collection-variables.ts). VM arrays are addressable
 * memory, so reads see the program's writes at once and writes are seen by the program.
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { BackendVariable } from "../spec/backend.ts";
import type { VariableSpec } from "../spec/collection-spec.ts";
import { encodeVariableValue } from "../spec/variable-values.ts";
import type { VmArrayMap } from "./maps/array.ts";

// One encoder for both backends; re-exported here where the VM API has always had it.
export { encodeVariableValue } from "../spec/variable-values.ts";

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
export class VmVariable implements BackendVariable {
  /** The variable's name. */
  readonly name: string;
  /** Byte offset in its map's value. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
  /** True for `.rodata` and `.kconfig` variables (frozen once loaded, as in the kernel). */
  readonly readOnly: boolean;
  /** The spec it came from. */
  readonly spec: VariableSpec;
  /** The map holding the variable. */
  readonly map: VmArrayMap;

  constructor(spec: VariableSpec, map: VmArrayMap, readOnly: boolean) {
    this.name = spec.name;
    this.offset = spec.offset;
    this.size = spec.size;
    this.readOnly = spec.readOnly || readOnly;
    this.spec = spec;
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

  /** The value as an unsigned little-endian integer (variables of at most 8 bytes). */
  toBigInt(): bigint {
    const b = this.memory;
    if (b.length > 8)
      throw new RangeError(`variable "${this.name}" is ${b.length} bytes, more than a u64`);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }

  /**
   * Writes the variable: bytes of exactly its size, or a number/bigint stored
   * little-endian in its size.
   * @throws Error for a read-only variable; RangeError for a value of the wrong size
   */
  set(value: Uint8Array | number | bigint): void {
    if (this.readOnly)
      throw new Error(
        `variable "${this.name}" is read-only (in ${this.spec.map}, frozen at load): set it before loading with the \`constants\` option`,
      );
    this.memory.set(encodeVariableValue(this.name, this.size, value));
  }
}
