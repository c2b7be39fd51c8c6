/** BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK in the VM. @module */

import type { MapSpec } from "../../spec/map-spec.ts";
import { Errno, MapType, UpdateFlags } from "../../uapi/index.ts";
import { VmMap, VmMapError } from "./map.ts";

/**
 * A queue (FIFO) or stack (LIFO) with the kernel's semantics: keyless, at most
 * `maxEntries` values; a push to a full map fails with E2BIG unless BPF_EXIST is given,
 * which drops the oldest value; NOEXIST and unknown flags are EINVAL; pop and peek of
 * an empty map find nothing (ENOENT to a program). Values are copied in and out, never
 * pointed to. The user side is `push`/`pop`/`peek` (as on `BpfMap`); the key/value
 * calls map onto them as the kernel's syscalls do (lookup = peek, update = push,
 * lookup-and-delete = pop), delete and next key are EINVAL.
 *
 * @example
 * ```ts
 * const q = new VmQueueMap({ name: "q", type: MapType.QUEUE, keySize: 0, valueSize: 4, maxEntries: 8 });
 * q.push(Uint8Array.of(1, 0, 0, 0));
 * q.pop(); // [1, 0, 0, 0]
 * ```
 */
export class VmQueueMap extends VmMap {
  /** Ring storage of `maxEntries + 1` values (one spare, as the kernel's ring has). */
  readonly values: Uint8Array;
  /** True for BPF_MAP_TYPE_STACK. */
  readonly lifo: boolean;
  private readonly slots: number;
  private head = 0;
  private tail = 0;

  constructor(spec: MapSpec) {
    super({ ...spec, type: spec.type ?? MapType.QUEUE });
    this.lifo = this.type === MapType.STACK;
    this.slots = this.maxEntries + 1;
    this.values = new Uint8Array(this.slots * this.valueSize);
  }

  /** Values held. */
  get size(): number {
    return (this.head - this.tail + this.slots) % this.slots;
  }

  /** Pushes the value at `value[at..]`; 0 or a negative errno (the helper's answer). */
  pushRaw(value: Uint8Array, at: number, flags: number): number {
    if (flags & UpdateFlags.NOEXIST || flags > UpdateFlags.EXIST) return -Errno.EINVAL;
    if (this.size >= this.maxEntries) {
      if (!(flags & UpdateFlags.EXIST)) return -Errno.E2BIG;
      this.tail = (this.tail + 1) % this.slots;
    }
    this.values.set(value.subarray(at, at + this.valueSize), this.head * this.valueSize);
    this.head = (this.head + 1) % this.slots;
    return 0;
  }

  /** Copies the next value into `out[at..]` (removing it when `remove`); 0 or -ENOENT. */
  takeRaw(out: Uint8Array, at: number, remove: boolean): number {
    if (this.size === 0) return -Errno.ENOENT;
    let i: number;
    if (this.lifo) {
      i = (this.head - 1 + this.slots) % this.slots;
      if (remove) this.head = i;
    } else {
      i = this.tail;
      if (remove) this.tail = (this.tail + 1) % this.slots;
    }
    out.set(this.values.subarray(i * this.valueSize, (i + 1) * this.valueSize), at);
    return 0;
  }

  /** Adds a value; with EXIST a full map drops its oldest value instead of failing (E2BIG). */
  push(value: Uint8Array, flags = 0): void {
    this.checkValue(value, "push");
    const err = this.pushRaw(value, 0, flags);
    if (err < 0) throw new VmMapError(-err, `${this}: push`);
  }

  /** Removes and returns the next value (oldest for a queue, newest for a stack). */
  pop(): Uint8Array | undefined {
    const out = new Uint8Array(this.valueSize);
    return this.takeRaw(out, 0, true) < 0 ? undefined : out;
  }

  /** The value {@link pop} would return, left in place. */
  peek(): Uint8Array | undefined {
    const out = new Uint8Array(this.valueSize);
    return this.takeRaw(out, 0, false) < 0 ? undefined : out;
  }

  lookupSlot(): number {
    return -1;
  }

  updateRaw(_key: Uint8Array, _kat: number, value: Uint8Array, vat: number, flags: number): number {
    return this.pushRaw(value, vat, flags);
  }

  deleteRaw(): number {
    return -Errno.EINVAL;
  }

  nextKey(): Uint8Array | undefined {
    throw new VmMapError(Errno.EINVAL, `${this}: next key`);
  }

  override lookup(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.checkKey(key, "lookup");
    if (flags) throw new VmMapError(Errno.EINVAL, `${this}: lookup`);
    return this.peek();
  }

  override lookupAndDelete(key: Uint8Array, flags = 0): Uint8Array | undefined {
    this.checkKey(key, "lookup and delete");
    if (flags) throw new VmMapError(Errno.EINVAL, `${this}: lookup and delete`);
    return this.pop();
  }

  override *keys(): IterableIterator<Uint8Array> {}

  override *entries(): IterableIterator<[Uint8Array, Uint8Array]> {}
}
