/**
 * One compatibility check between a map that exists (pinned, or handed in as a
 * replacement) and the spec that wants it, as cilium/ebpf's `MapSpec.Compatible`:
 * every mismatch is listed in one {@link MapIncompatibleError}, and pinning and
 * replacement both use it, so an exception is written once.
 *
 * Pure: no `node:` imports.
 * @module
 */

import type { MapShape } from "./map-api.ts";

/** The parts of a map that must agree for it to stand in for a spec. */
export type MapLayout = Pick<MapShape, "type" | "keySize" | "valueSize" | "maxEntries" | "flags">;

/** One field that differs: what the existing map has and what the spec wants. */
export interface MapMismatch {
  readonly field: keyof MapLayout;
  readonly have: number;
  readonly want: number;
}

const FIELDS: readonly (keyof MapLayout)[] = [
  "type",
  "keySize",
  "valueSize",
  "maxEntries",
  "flags",
];

/** Every field in which `have` differs from `want`, in a fixed order (empty: compatible). */
export function mapMismatches(have: MapLayout, want: MapLayout): MapMismatch[] {
  return FIELDS.filter((f) => have[f] !== want[f]).map((field) => ({
    field,
    have: have[field],
    want: want[field],
  }));
}

/**
 * An existing map cannot stand in for a spec. `subject` says which map (`map pinned at
 * /sys/fs/bpf/x`, `replacement map`), `mismatches` every field that differs.
 *
 * @example
 * ```ts
 * // map pinned at /sys/fs/bpf/stats does not match spec "stats": maxEntries is 8, the spec says 4
 * ```
 */
export class MapIncompatibleError extends Error {
  override readonly name: string = "MapIncompatibleError";
  /** The spec's map name. */
  readonly mapName: string;
  /** Every field that differs. */
  readonly mismatches: readonly MapMismatch[];

  constructor(subject: string, mapName: string, mismatches: readonly MapMismatch[]) {
    const list = mismatches.map((m) => `${m.field} is ${m.have}, the spec says ${m.want}`);
    super(`${subject} does not match spec "${mapName}": ${list.join("; ")}`);
    this.mapName = mapName;
    this.mismatches = mismatches;
  }
}

/**
 * Throws {@link MapIncompatibleError} listing every mismatch when `have` cannot stand in
 * for `want`.
 */
export function checkMapCompatible(
  subject: string,
  mapName: string,
  have: MapLayout,
  want: MapLayout,
): void {
  const mismatches = mapMismatches(have, want);
  if (mismatches.length > 0) throw new MapIncompatibleError(subject, mapName, mismatches);
}
