/**
 * `prog show`'s metadata section: the `bpf_metadata_*` variables of the `.rodata` map
 * bound to a program (libbpf binds `.rodata` to every program it loads), printed
 * through their BTF as bpftool's show_prog_metadata does.
 */
import type { BTF } from "../../btf/index.ts";
import { KernelBTF } from "../../kernel/btf/kernel-btf.ts";
import { BpfMap } from "../../kernel/maps/map.ts";
import { MapType } from "../../uapi/index.ts";

/** bpftool's prefix for metadata variables; it prints the names without it. */
const METADATA_PREFIX = "bpf_metadata_";

/** One metadata variable: its name without the prefix, type and bytes. */
export interface MetadataVar {
  readonly name: string;
  readonly btf: BTF;
  readonly typeId: number;
  readonly value: Uint8Array;
}

/**
 * The metadata of a program with maps `mapIds`: from the first `.rodata`-like map
 * (an array with a 4-byte key, one entry and a BTF value type, named `*.rodata*`), its
 * DATASEC's `bpf_metadata_*` variables. Undefined when there are none; a map or BTF
 * that went away in between is no metadata, as with bpftool.
 */
export function progMetadata(mapIds: readonly number[]): MetadataVar[] | undefined {
  for (const id of mapIds) {
    let map: BpfMap;
    try {
      map = BpfMap.fromId(id);
    } catch {
      continue; // freed since the program's info was read
    }
    try {
      const info = map.info();
      const rodataLike =
        info.type === MapType.ARRAY &&
        info.keySize === 4 &&
        info.maxEntries === 1 &&
        info.btfValueTypeId !== 0 &&
        info.name.includes(".rodata");
      if (!rodataLike) continue;
      const value = map.lookup(new Uint8Array(4));
      const kbtf = KernelBTF.fromId(info.btfId);
      if (!value || !kbtf) return undefined;
      let btf: BTF;
      try {
        btf = kbtf.btf();
      } finally {
        kbtf.close();
      }
      const sec = btf.types[info.btfValueTypeId];
      if (sec?.kind !== "DATASEC") return undefined;
      const vars: MetadataVar[] = [];
      for (const v of sec.vars) {
        const t = btf.types[v.type];
        if (t?.kind !== "VAR" || !t.name.startsWith(METADATA_PREFIX)) continue;
        vars.push({
          name: t.name.slice(METADATA_PREFIX.length),
          btf,
          typeId: t.type,
          value: value.subarray(v.offset, v.offset + v.size),
        });
      }
      return vars.length > 0 ? vars : undefined;
    } catch {
      return undefined;
    } finally {
      map.close();
    }
  }
  return undefined;
}
