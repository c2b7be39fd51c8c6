/**
 * Global variables of a loaded collection: a named range of a global-data map's
 * single value (`.data`, `.bss`, `.rodata`...). Read and written through a shared
 * memory mapping of the map when it is BPF_F_MMAPABLE (no system call per access,
 * and the program sees writes at once), else with lookup/update of the whole value.
 *
 * @module
 */

import type { VariableSpec } from "../../spec/collection-spec.ts";
import { GlobalVariable } from "../../spec/variable.ts";
import { MapFlags } from "../../uapi/index.ts";
import type { BpfMap } from "../maps/map.ts";
import { pageSize, SharedMapping } from "../sys/index.ts";

const KEY0 = new Uint8Array(4);

/** One mapping per global-data map, made on first use and closed with the collection. */
export class GlobalDataMemory {
  readonly map: BpfMap;
  /** True when the map is frozen or read-only to user space (`.rodata`, `.kconfig`). */
  readonly readOnly: boolean;
  #mapping: SharedMapping | undefined;
  #bytes: Uint8Array | undefined;

  constructor(map: BpfMap, readOnly: boolean) {
    this.map = map;
    this.readOnly = readOnly;
  }

  /**
   * The map's value as zero-copy bytes (shared with the programs), or undefined when
   * the map is not mmapable. For a read-only map (frozen: neither side can write it)
   * the bytes are a copy of the value: the kernel maps it read-only, and a JavaScript
   * write to a view of that mapping would kill the process.
   */
  bytes(): Uint8Array | undefined {
    if (this.#bytes) return this.#bytes;
    if ((this.map.flags & MapFlags.MMAPABLE) === 0) return undefined;
    const len = Math.ceil(Math.max(this.map.valueSize, 1) / pageSize()) * pageSize();
    const mapping = SharedMapping.map(
      this.map.fd,
      len,
      0,
      this.readOnly ? "read" : "read-write",
      `global data map "${this.map.name}" (fd ${this.map.fd})`,
    );
    if (this.readOnly) {
      try {
        this.#bytes = new Uint8Array(mapping.buffer, 0, this.map.valueSize).slice();
      } finally {
        mapping.close();
      }
      return this.#bytes;
    }
    this.#mapping = mapping;
    this.#bytes = new Uint8Array(mapping.buffer, 0, this.map.valueSize);
    return this.#bytes;
  }

  /** Unmaps (views made before read zeros afterwards). */
  close(): void {
    this.#mapping?.close();
    this.#mapping = undefined;
    this.#bytes = undefined;
  }
}

/**
 * A global variable of a loaded collection.
 *
 * @example
 * ```ts
 * coll.variables.packets_seen.set(0n);
 * coll.programs.xdp_count.run({ data: new Uint8Array(64) });
 * console.log(coll.variables.packets_seen.toBigInt()); // 1n
 * ```
 */
export class Variable extends GlobalVariable {
  readonly #memory: GlobalDataMemory;

  constructor(spec: VariableSpec, memory: GlobalDataMemory) {
    super(spec, memory.readOnly);
    this.#memory = memory;
  }

  /** The map holding the variable. */
  get map(): BpfMap {
    return this.#memory.map;
  }

  /**
   * Zero-copy bytes of the variable when its map is mmapable (reads see the program's
   * writes; writes are seen by the program), else undefined. For a read-only variable
   * (frozen `.rodata`, `.kconfig`) a copy of its constant bytes.
   */
  get memory(): Uint8Array | undefined {
    const all = this.#memory.bytes();
    // A read-only (frozen) variable never changes: a fresh copy each time, so a write
    // to it can neither crash (the kernel's mapping is read-only) nor alter get().
    if (this.#memory.readOnly) return all?.slice(this.offset, this.offset + this.size);
    return all?.subarray(this.offset, this.offset + this.size);
  }

  /** A copy of the variable's current bytes. */
  get(): Uint8Array {
    const mem = this.memory;
    if (mem) return mem.slice();
    const value = this.map.lookup(KEY0);
    if (value === undefined) throw new Error(`global data map "${this.map.name}" has no entry 0`);
    return value.slice(this.offset, this.offset + this.size);
  }

  protected write(bytes: Uint8Array): void {
    const mem = this.memory;
    if (mem) {
      mem.set(bytes);
      return;
    }
    const current = this.map.lookup(KEY0);
    if (current === undefined) throw new Error(`global data map "${this.map.name}" has no entry 0`);
    current.set(bytes, this.offset);
    this.map.update(KEY0, current);
  }
}
