/**
 * What a global variable is in either backend: a named range of a global-data map's
 * single value. `GlobalVariable` holds the rules both backends share (integer reads,
 * writes checked for size and read-only-ness, the messages); each backend says only
 * how to read and write the bytes (the kernel through an mmap or the map, the VM in
 * its own memory).
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { BackendVariable } from "./backend.ts";
import type { VariableSpec } from "./collection-spec.ts";
import { encodeVariableValue, type VariableValue } from "./variable-values.ts";

/** A global variable of a loaded collection; see the backends' `Variable` and `VmVariable`. */
export abstract class GlobalVariable implements BackendVariable {
  /** The variable's name. */
  readonly name: string;
  /** Byte offset in its map's value. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
  /** True for `.rodata` and `.kconfig` variables: frozen once loaded. */
  readonly readOnly: boolean;
  /** The spec it came from (map name, BTF type id, linkage). */
  readonly spec: VariableSpec;

  /** `readOnly`: the backend's map is frozen or read-only (the spec may say so too). */
  constructor(spec: VariableSpec, readOnly: boolean) {
    this.name = spec.name;
    this.offset = spec.offset;
    this.size = spec.size;
    this.readOnly = spec.readOnly || readOnly;
    this.spec = spec;
  }

  /** A copy of the variable's current bytes. */
  abstract get(): Uint8Array;

  /** Stores `bytes` (exactly {@link size} of them) as the variable's value. */
  protected abstract write(bytes: Uint8Array): void;

  /** The value as an unsigned little-endian integer (variables of at most 8 bytes). */
  toBigInt(): bigint {
    const b = this.get();
    if (b.length > 8)
      throw new RangeError(`variable "${this.name}" is ${b.length} bytes, more than a u64`);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }

  /**
   * Writes the variable: bytes of exactly its size, or a number/bigint stored
   * little-endian in its size (1, 2, 4 or 8 bytes).
   *
   * @throws Error for a read-only variable; RangeError for a value of the wrong size
   */
  set(value: VariableValue): void {
    if (this.readOnly) {
      throw new Error(
        `variable "${this.name}" is read-only (in ${this.spec.map}, frozen at load): set it before loading with the \`constants\` option`,
      );
    }
    this.write(encodeVariableValue(this.name, this.size, value));
  }
}
