/** BPF_MAP_TYPE_STACK_TRACE in the VM. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapFlags, MapType, StackFlags } from "../../uapi/index.ts";
import { jhash2 } from "./jhash.ts";
import { VmMap } from "./map.ts";

/**
 * A stack trace map as kernel/bpf/stackmap.c keeps one: `roundup_pow_of_two(maxEntries)`
 * buckets, each holding one trace of at most `valueSize / 8` instruction pointers; a
 * trace goes to bucket `jhash2(ips, 0) & (buckets - 1)`, so equal traces get equal ids.
 * The stack itself comes from the caller (`VmRunInput.stack`), since the VM has no
 * kernel or user stack to walk.
 *
 * The user side reads traces by id (`lookup` gives `valueSize` bytes: the ips, then
 * zeros), deletes them, and walks the ids in use; update is EINVAL as in the kernel.
 * Build-id traces (BPF_F_STACK_BUILD_ID) are not modelled.
 *
 * @example
 * ```ts
 * const id = prog.run({ stack: { kernel: [0xffffffff81000000n, 0xffffffff81000100n] } }).r0;
 * stacks.lookup(new Uint8Array(new Uint32Array([Number(id)]).buffer));
 * ```
 */
export class VmStackTraceMap extends VmMap {
  readonly values: Uint8Array = new Uint8Array(0);
  /** Number of buckets (a power of two). */
  readonly buckets: number;
  private readonly traces: ({ hash: number; ips: BigUint64Array } | undefined)[];

  constructor(spec: MapSpec) {
    super({ ...spec, type: spec.type ?? MapType.STACK_TRACE });
    if (this.flags & MapFlags.STACK_BUILD_ID)
      throw new RangeError(`${this}: build-id stack maps are not supported by the VM`);
    this.buckets = 2 ** Math.ceil(Math.log2(Math.max(1, this.maxEntries)));
    this.traces = new Array(this.buckets).fill(undefined);
  }

  /** Most frames a trace keeps. */
  get maxDepth(): number {
    return this.valueSize / 8;
  }

  /**
   * `bpf_get_stackid` on `stack` (innermost frame first), with the kernel's flags
   * (skip count, FAST_STACK_CMP, REUSE_STACKID): the id, or a negative errno (EFAULT
   * when nothing is left after skipping, EEXIST when the bucket holds another trace).
   */
  stackId(stack: readonly bigint[], flags: number): number {
    const skip = flags & StackFlags.SKIP_FIELD_MASK;
    const frames = stack.slice(0, this.maxDepth + skip);
    if (frames.length <= skip) return -Errno.EFAULT;
    const ips = BigUint64Array.from(frames.slice(skip), (v) => BigInt.asUintN(64, v));
    const bytes = new Uint8Array(ips.buffer);
    const hash = jhash2(bytes, 0, ips.length * 2, 0);
    const id = hash & (this.buckets - 1);
    const cur = this.traces[id];
    const matches = cur !== undefined && cur.hash === hash;
    if (matches && flags & StackFlags.FAST_STACK_CMP) return id;
    if (matches && cur.ips.length === ips.length && cur.ips.every((v, i) => v === ips[i]))
      return id;
    if (cur && !(flags & StackFlags.REUSE_STACKID)) return -Errno.EEXIST;
    this.traces[id] = { hash, ips };
    return id;
  }

  lookupSlot(): number {
    return -1;
  }

  override lookup(key: Uint8Array, _flags = 0): Uint8Array | undefined {
    this.checkKey(key, "lookup");
    const id = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
    const t = id < this.buckets ? this.traces[id] : undefined;
    if (!t) return undefined;
    const out = new Uint8Array(this.valueSize);
    out.set(new Uint8Array(t.ips.buffer));
    return out;
  }

  updateRaw(): number {
    return -Errno.EINVAL;
  }

  deleteRaw(key: Uint8Array, at: number): number {
    const id = new DataView(key.buffer, key.byteOffset + at, 4).getUint32(0, true);
    if (id >= this.buckets || !this.traces[id]) return -Errno.ENOENT;
    this.traces[id] = undefined;
    return 0;
  }

  nextKey(key?: Uint8Array): Uint8Array | undefined {
    let i = 0;
    if (key !== undefined) {
      this.checkKey(key, "next key");
      const id = new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true);
      i = id >= this.buckets ? 0 : id + 1;
    }
    for (; i < this.buckets; i++) {
      if (this.traces[i]) return new Uint8Array(new Uint32Array([i]).buffer);
    }
    return undefined;
  }
}
