/**
 * Load stage 4, variables: each global variable of the spec bound to the bytes of its
 * global-data map (one mmap per map where the kernel allows it).
 * @module
 */
import type { CollectionSpec, VariableSpec } from "../../spec/collection-spec.ts";
import { MapFlags } from "../../uapi/index.ts";
import type { Resources } from "./resources.ts";
import { GlobalDataMemory, Variable } from "./variables.ts";

/** The variables of `spec` over the maps in `res.maps`, by name. */
export function bindVariables(spec: CollectionSpec, res: Resources): Record<string, Variable> {
  const memories = new Map<string, GlobalDataMemory>();
  const variables: Record<string, Variable> = {};
  for (const v of Object.values(spec.variables) as VariableSpec[]) {
    const map = res.maps.get(v.map);
    if (!map) continue;
    let mem = memories.get(v.map);
    if (!mem) {
      const ms = spec.maps[v.map];
      mem = new GlobalDataMemory(
        map,
        ms?.freeze === true || ((ms?.flags ?? 0) & MapFlags.RDONLY) !== 0,
      );
      memories.set(v.map, mem);
      res.memories.push(mem);
    }
    variables[v.name] = new Variable(v, mem);
  }
  return variables;
}
