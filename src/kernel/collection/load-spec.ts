/**
 * `loadCollection(path)`: read an object file, turn it into a spec and load it.
 *
 * @module
 */

import { basename } from "node:path";
import { loadCollectionSpec } from "../../elf/index.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../system/input-file.ts";
import { Collection, type CollectionOptions } from "./collection.ts";

/**
 * The object name libbpf gives a file: its base name up to the first dot
 * (`/x/xdp-maps.bpf.o` → `xdp-maps`), used to name global-data maps.
 */
export function objectNameOf(path: string): string {
  const base = basename(path);
  const dot = base.indexOf(".");
  return dot < 0 ? base : base.slice(0, dot);
}

/**
 * Reads the ELF object at `path` and loads it ({@link Collection.load}); the object
 * name for global-data maps comes from the file name unless `opts.objectName` says.
 *
 * @example
 * ```ts
 * using coll = loadCollection("examples/xdp/xdp.bpf.o");
 * console.log(Object.keys(coll.programs));
 * ```
 * @throws ELFError for a malformed object, and whatever {@link Collection.load} throws
 */
export function loadCollection<
  M extends string = string,
  P extends string = string,
  V extends string = string,
>(path: string, opts: CollectionOptions = {}): Collection<M, P, V> {
  const spec = loadCollectionSpec(readInputFile(path, MAX_OBJECT_BYTES, "BPF object"));
  return Collection.load<M, P, V>(spec, { objectName: objectNameOf(path), ...opts });
}
