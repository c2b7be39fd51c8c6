/** BPF_MAP_TYPE_PROG_ARRAY in the VM: the jump table of tail calls. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapType } from "../../uapi/index.ts";
import { VmMap } from "./map.ts";

/**
 * A program array: slot `i` holds a program (or nothing) for `bpf_tail_call(ctx, map, i)`.
 * Programs are set with {@link set}; the raw-bytes API (file descriptors in the
 * kernel) does not apply in the VM and answers EINVAL. Generic over the program type
 * so maps do not depend on the interpreter.
 *
 * @example
 * ```ts
 * const jt = new VmProgArray<VmProgram>({ name: "jt", type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 8 });
 * jt.set(0, prog);
 * ```
 */
export class VmProgArray<P = unknown> extends VmMap {
  readonly values: Uint8Array = new Uint8Array(0);
  private readonly progs: (P | undefined)[];

  constructor(spec: MapSpec) {
    super({ ...spec, type: spec.type ?? MapType.PROG_ARRAY });
    this.progs = new Array(this.maxEntries).fill(undefined);
  }

  /** Puts `prog` in slot `index` (undefined empties it). */
  set(index: number, prog: P | undefined): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.maxEntries)
      throw new RangeError(`${this}: index ${index} is not below ${this.maxEntries}`);
    this.progs[index] = prog;
  }

  /** The program in slot `index`, if any. */
  get(index: number): P | undefined {
    return index >= 0 && index < this.maxEntries ? this.progs[index] : undefined;
  }

  lookupSlot(_key: Uint8Array, _at: number): number {
    return -1;
  }

  updateRaw(): number {
    return -Errno.EINVAL;
  }

  deleteRaw(key: Uint8Array, at: number): number {
    const i = new DataView(key.buffer, key.byteOffset + at, 4).getUint32(0, true);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if (this.progs[i] === undefined) return -Errno.ENOENT;
    this.progs[i] = undefined;
    return 0;
  }

  nextKey(key?: Uint8Array): Uint8Array | undefined {
    let i =
      key === undefined ? 0 : new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true) + 1;
    if (key !== undefined && i - 1 >= this.maxEntries) i = 0;
    for (; i < this.maxEntries; i++) {
      if (this.progs[i] !== undefined) {
        const out = new Uint8Array(4);
        new DataView(out.buffer).setUint32(0, i, true);
        return out;
      }
    }
    return undefined;
  }
}
