/** BPF_MAP_TYPE_DEVMAP, DEVMAP_HASH, CPUMAP and XSKMAP in the VM: targets of bpf_redirect_map. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapType, UpdateFlags } from "../../uapi/index.ts";
import { VmHashMap } from "./hash.ts";
import type { VmMapOptions } from "./map.ts";

/**
 * A redirect target map: slot → device ifindex (DEVMAP, DEVMAP_HASH), CPU queue size
 * (CPUMAP) or socket (XSKMAP). The VM has no devices, so a slot holds whatever value
 * was written; `bpf_redirect_map` only asks whether the slot is filled. DEVMAP, CPUMAP
 * and XSKMAP are arrays of slots (an index past the end is E2BIG, NOEXIST is EEXIST,
 * and writing ifindex 0 to a DEVMAP slot empties it, as the kernel does); DEVMAP_HASH
 * is a hash.
 */
export class VmRedirectMap extends VmHashMap {
  private readonly arrayLike: boolean;

  constructor(spec: MapSpec, opts: VmMapOptions = {}) {
    super({ ...spec, type: spec.type ?? MapType.DEVMAP }, opts);
    this.arrayLike = this.type !== MapType.DEVMAP_HASH;
  }

  override updateRaw(
    key: Uint8Array,
    kat: number,
    value: Uint8Array,
    vat: number,
    flags: number,
  ): number {
    if (this.arrayLike) {
      if (flags > UpdateFlags.EXIST) return -Errno.EINVAL;
      const i = new DataView(key.buffer, key.byteOffset + kat, 4).getUint32(0, true);
      if (i >= this.maxEntries) return -Errno.E2BIG;
      if (flags === UpdateFlags.NOEXIST) return -Errno.EEXIST;
      const target = new DataView(value.buffer, value.byteOffset + vat, 4).getUint32(0, true);
      if (this.type === MapType.DEVMAP && target === 0) {
        this.deleteRaw(key, kat);
        return 0;
      }
      return super.updateRaw(key, kat, value, vat, UpdateFlags.ANY);
    }
    return super.updateRaw(key, kat, value, vat, flags);
  }
}
