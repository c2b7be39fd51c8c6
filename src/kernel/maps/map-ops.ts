/**
 * The hot path of map element operations: per-map native memory holding ready-made
 * `union bpf_attr`s whose pointers already point at the map's own key, value and
 * next-key buffers. An operation copies the key in, calls {@link bpfRaw} and copies
 * the value out: no allocation, no BigInt and no layout lookup per call.
 *
 * @module
 */

import { BPF_ATTR_SIZE, bpfAttr } from "../../uapi/index.ts";
import { allocNative, freeNative, type NativeMemory } from "../sys/index.ts";

const F = bpfAttr.mapElem.fields;
const FLAGS_OFFSET = F.flags.offset;

const align8 = (n: number) => (n + 7) & ~7;

/** Native buffers and prepared attributes for one map's element operations. */
export class MapOpBuffers {
  /** map_fd, key → {@link key} (NULL for keyless maps), value → {@link value}, flags. */
  readonly elem: NativeMemory;
  /** map_fd and key only: BPF_MAP_DELETE_ELEM refuses any field after `key` (EINVAL). */
  readonly del: NativeMemory;
  /** map_fd, key → {@link key}, next_key → {@link nextKey}: BPF_MAP_GET_NEXT_KEY. */
  readonly next: NativeMemory;
  /** map_fd, key NULL, next_key → {@link nextKey}: the first key. */
  readonly first: NativeMemory;
  /** The key, value and next-key bytes. */
  readonly data: NativeMemory;
  /** The one native block holding the attributes and the data. */
  readonly block: NativeMemory;
  /** Key bytes the kernel reads (keySize long). */
  readonly key: Uint8Array;
  /** Value bytes the kernel reads or writes (the whole per-CPU buffer for per-CPU maps). */
  readonly value: Uint8Array;
  /** Where the kernel writes the next key. */
  readonly nextKey: Uint8Array;
  readonly #elemView: DataView;
  /** The `flags` currently in {@link elem}. */
  flags = 0;

  /**
   * @param fd the map's descriptor, written once into every attribute
   * @param keySize key bytes (0: keyless, the key pointer stays NULL)
   * @param valueBytes bytes of the value buffer (value size, or per-CPU total)
   */
  constructor(fd: number, keySize: number, valueBytes: number) {
    // One native block for the four attributes and the data: a koffi allocation (and
    // its view) costs about as much as a map lookup, and a collection creates its maps
    // by the dozen; five blocks per map were a tenth of Collection.load's own time.
    const attrBytes = align8(BPF_ATTR_SIZE);
    const keyOff = 4 * attrBytes;
    const valueOff = keyOff + align8(keySize);
    const nextOff = valueOff + align8(valueBytes);
    this.block = allocNative(nextOff + align8(keySize));
    const at = (off: number, size: number): NativeMemory => sub(this.block, off, size);
    this.elem = at(0, BPF_ATTR_SIZE);
    this.del = at(attrBytes, BPF_ATTR_SIZE);
    this.next = at(2 * attrBytes, BPF_ATTR_SIZE);
    this.first = at(3 * attrBytes, BPF_ATTR_SIZE);
    this.data = at(keyOff, nextOff + align8(keySize) - keyOff);
    const bytes = this.block.bytes;
    this.key = bytes.subarray(keyOff, keyOff + keySize);
    this.value = bytes.subarray(valueOff, valueOff + valueBytes);
    this.nextKey = bytes.subarray(nextOff, nextOff + keySize);
    const base = this.block.address;
    const keyAddr = keySize > 0 ? base + BigInt(keyOff) : 0n;
    const valueAddr = base + BigInt(valueOff);
    const nextAddr = base + BigInt(nextOff);
    this.#elemView = viewOf(this.elem);
    prepare(this.elem, fd, keyAddr, valueAddr);
    prepare(this.del, fd, keyAddr, 0n);
    prepare(this.next, fd, keyAddr, nextAddr);
    prepare(this.first, fd, 0n, nextAddr);
  }

  /** Sets the `flags` of {@link elem} (only written when it changes). */
  setFlags(flags: number): void {
    if (flags !== this.flags) {
      this.#elemView.setUint32(FLAGS_OFFSET, flags, true);
      this.flags = flags;
    }
  }

  /** Releases the native memory. */
  free(): void {
    freeNative(this.block);
  }
}

/** `size` bytes at `off` inside `mem`, as a NativeMemory (not to be freed on its own). */
function sub(mem: NativeMemory, off: number, size: number): NativeMemory {
  const address = mem.address + BigInt(off);
  return {
    ptr: undefined,
    address,
    addr: mem.addr + off,
    bytes: mem.bytes.subarray(off, off + size),
    size,
  };
}

function viewOf(mem: NativeMemory): DataView {
  return new DataView(mem.bytes.buffer, mem.bytes.byteOffset, mem.bytes.byteLength);
}

function prepare(attr: NativeMemory, fd: number, key: bigint, valueOrNext: bigint): void {
  const v = viewOf(attr);
  v.setUint32(F.map_fd.offset, fd, true);
  v.setBigUint64(F.key.offset, key, true);
  v.setBigUint64(F.value.offset, valueOrNext, true);
}
