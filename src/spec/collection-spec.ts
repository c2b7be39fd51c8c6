/**
 * `CollectionSpec`: everything an ELF object describes — programs, maps, global
 * variables, externs, licence, BTF — as plain data. Reading the same object always
 * gives the same spec; a kernel or a VM comes in only when the spec is loaded.
 *
 * Its byte arrays (instructions, BTF, line info, map contents) are the spec's own
 * memory, but small ones may be views at an offset of a larger ArrayBuffer shared
 * with other arrays, as Node's Buffers are: read them through their `byteOffset`
 * and `byteLength` (`new DataView(a.buffer, a.byteOffset, a.byteLength)`), never
 * through `a.buffer` alone.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

import type { BTF } from "../btf/index.ts";
import type { MapSpec } from "./map-spec.ts";
import type { ProgramSpec } from "./program-spec.ts";

/** A global variable: a named range of a global-data map's single value. */
export interface VariableSpec {
  /** The variable's name. */
  readonly name: string;
  /** The map holding it (".data", ".rodata", ".bss", ".data.foo", ".kconfig"...). */
  readonly map: string;
  /** Byte offset in the map's value. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
  /** BTF type id of its type (the VAR's type) in {@link CollectionSpec.btf}; 0 when unknown. */
  readonly typeId: number;
  /** "global" or "static" (BTF VAR linkage). */
  readonly linkage: "global" | "static" | "extern";
  /** True in read-only sections (.rodata*): the map is frozen after loading. */
  readonly readOnly: boolean;
}

/**
 * A symbol the object uses but does not define, resolved when the collection loads.
 * - `"kconfig"`: a `__kconfig` value (CONFIG_*, LINUX_KERNEL_VERSION...), stored in
 *   the `.kconfig` map at `offset`, `size` bytes;
 * - `"ksym"`: a `__ksym` kernel variable (address via its BTF id);
 * - `"kfunc"`: a `__ksym` kernel function called from the program.
 */
export interface ExternSpec {
  readonly name: string;
  readonly kind: "kconfig" | "ksym" | "kfunc";
  /** `__weak`: the collection loads even when the kernel lacks it (value 0). */
  readonly weak: boolean;
  /** BTF type id of the extern's VAR or FUNC type in the object's BTF (0 when unknown). */
  readonly typeId: number;
  /** For kconfig externs: offset in the `.kconfig` map's value. */
  readonly offset?: number;
  /** For kconfig externs: size in bytes. */
  readonly size?: number;
}

/**
 * A whole object: the result of `loadCollectionSpec(bytes)` (src/elf). Programs and
 * maps are keyed by name in the object's order.
 *
 * @example
 * ```ts
 * const spec = loadCollectionSpec(bytes);
 * console.log(Object.keys(spec.programs), Object.keys(spec.maps), spec.license);
 * ```
 */
export interface CollectionSpec {
  /** Entry programs by name (their function symbol), subprograms already linked in. */
  readonly programs: Readonly<Record<string, ProgramSpec>>;
  /**
   * Maps by name: BTF-defined (`.maps`) and legacy (`maps`) maps, then one ARRAY map
   * per global-data section (named after it: ".data", ".rodata.str1.1", ".bss"...),
   * then ".kconfig" when the object has kconfig externs.
   */
  readonly maps: Readonly<Record<string, MapSpec>>;
  /** Global variables by name. */
  readonly variables: Readonly<Record<string, VariableSpec>>;
  /** Externs (kconfig values, kernel symbols, kfuncs) in the object's order. */
  readonly externs: readonly ExternSpec[];
  /** The `license` section's string ("" when there is none). */
  readonly license: string;
  /** The `version` section's value, when present. */
  readonly kernelVersion?: number;
  /** The object's parsed BTF (`.BTF`), when it has one. */
  readonly btf?: BTF;
  /** The raw `.BTF` bytes, as the kernel loads them. */
  readonly btfBytes?: Uint8Array;
}

/** The maps of `spec` that hold global data (".data", ".rodata*", ".bss*", ".kconfig"). */
export function globalDataMaps(spec: CollectionSpec): MapSpec[] {
  return Object.values(spec.maps).filter((m) => isGlobalDataName(m.name));
}

/** True for the names the ELF loader gives global-data maps. */
export function isGlobalDataName(name: string): boolean {
  return /^\.(data|rodata|bss|kconfig)(\.|$)/.test(name);
}
