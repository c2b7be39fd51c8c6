/**
 * Batched map operations (BPF_MAP_LOOKUP_BATCH, _LOOKUP_AND_DELETE_BATCH,
 * _UPDATE_BATCH, _DELETE_BATCH): many entries per system call.
 *
 * The walk's cursor is opaque: hash maps use a bucket index (4 bytes), other maps the
 * last key; a buffer of max(keySize, 4) bytes holds either. ENOENT from a lookup means
 * the walk reached the end (the entries of that last call still count). A failed
 * update or delete reports how far it got in {@link MapBatchError.processed}.
 *
 * @module
 */

import { BatchChunk, type BatchInput } from "../../spec/map-api.ts";
import { Errno } from "../../uapi/errno.ts";
import { BpfCmd, bpfAttr } from "../../uapi/index.ts";
import { allocNative, BpfCall, freeNative, type NativeMemory, SyscallError } from "../sys/index.ts";

/** What a batch operation needs to know about its map. */
export interface BatchTarget {
  /** The map's descriptor. */
  readonly fd: number;
  /** For messages, e.g. `hash map "counts"`. */
  readonly label: string;
  /** Key size in bytes. */
  readonly keySize: number;
  /** Bytes per value in the batch buffers (per-CPU maps: every CPU's slot). */
  readonly batchValueSize: number;
}

/** A batch update or delete that stopped part-way: `processed` entries were done. */
export class MapBatchError extends SyscallError {
  override readonly name: string = "MapBatchError";
  /** How many entries the kernel handled before failing. */
  readonly processed: number;

  constructor(errno: number, operation: string, processed: number, total: number) {
    super(errno, operation, `${processed} of ${total} entries done`);
    this.processed = processed;
  }
}

/** Scratch buffers up to this size are kept for the next batch; larger ones are freed. */
const SCRATCH_KEEP = 1 << 20;
let kept: NativeMemory | undefined;

/** Native memory of at least `size` bytes for one batch call (not zeroed). */
function scratch(size: number): NativeMemory {
  const n = Math.max(size, 8);
  if (kept && kept.size >= n) return kept;
  if (n <= SCRATCH_KEEP) {
    if (kept) freeNative(kept);
    kept = allocNative(Math.min(SCRATCH_KEEP, Math.max(n, 2 * (kept?.size ?? 0))));
    return kept;
  }
  return allocNative(n);
}

/** Frees a scratch buffer unless it is the kept one. */
function releaseScratch(mem: NativeMemory): void {
  if (mem !== kept) freeNative(mem);
}

/** Size of the opaque cursor of batched walks for a map with `keySize`-byte keys. */
export function batchCursorSize(keySize: number): number {
  return Math.max(keySize, 4);
}

/**
 * One chunk of a batched walk: up to `count` entries after `cursor`. With `del`, the
 * entries returned are also removed.
 *
 * @throws SyscallError; for ENOSPC with nothing read, the message says that a hash
 * bucket holds more entries than `count` and a larger count is needed.
 */
export function lookupBatch(
  map: BatchTarget,
  count: number,
  cursor: Uint8Array | undefined,
  elemFlags: number,
  del: boolean,
): BatchChunk {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`${map.label}: batch count must be a positive integer, got ${count}`);
  }
  const tokenSize = batchCursorSize(map.keySize);
  if (cursor !== undefined && cursor.length !== tokenSize) {
    throw new RangeError(
      `${map.label}: batch cursor is ${cursor.length} bytes, expected ${tokenSize} (pass back the cursor a previous call returned)`,
    );
  }
  const op = `${del ? "lookup-and-delete" : "lookup"} batch of ${count} in ${map.label}`;
  const call = new BpfCall(
    del ? BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH : BpfCmd.MAP_LOOKUP_BATCH,
    bpfAttr.batch,
  );
  if (cursor) call.input("in_batch", cursor);
  const out = call.output("out_batch", tokenSize);
  // Keys and values go to a reused scratch buffer: the kernel overwrites what it
  // returns, so it needs no zeroing, and a 10k-entry walk allocates nothing native.
  const keyBytes = count * map.keySize;
  const mem = scratch(keyBytes + count * map.batchValueSize);
  try {
    call.set("keys", mem.address).set("values", mem.address + BigInt(keyBytes));
    call.u32("count", count).u32("map_fd", map.fd).set("elem_flags", elemFlags);
    let done = false;
    try {
      call.invoke(op);
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      if (e.errno === Errno.ENOENT) done = true;
      else if (e.errno === Errno.ENOSPC && call.get("count") === 0) {
        throw new SyscallError(
          e.errno,
          op,
          `a hash bucket holds more than ${count} entries: use a larger count`,
        );
      } else throw e;
    }
    const n = call.get("count");
    return new BatchChunk(
      n,
      mem.bytes.slice(0, n * map.keySize),
      mem.bytes.slice(keyBytes, keyBytes + n * map.batchValueSize),
      map.keySize,
      map.batchValueSize,
      done ? undefined : out.copy(),
    );
  } finally {
    releaseScratch(mem);
  }
}

/** Number of items in a batch input of `size`-byte items. */
function countOf(label: string, what: string, items: BatchInput, size: number): number {
  if (!(items instanceof Uint8Array)) return items.length;
  if (size === 0 || items.length % size !== 0) {
    throw new RangeError(
      `${label}: packed ${what} are ${items.length} bytes, not a multiple of ${size}`,
    );
  }
  return items.length / size;
}

/**
 * Packs a batch input into native memory at `at` (`count * size` bytes; packed input is
 * copied as is). The batch buffers live in the kept scratch memory rather than the
 * call's arena: 10k keys and values do not fit the arena, and a fresh native block per
 * call (allocated, zeroed, freed) cost more than the copy.
 */
function pack(
  label: string,
  what: string,
  items: BatchInput,
  size: number,
  to: Uint8Array,
  at: number,
): void {
  if (items instanceof Uint8Array) {
    to.set(items, at);
    return;
  }
  items.forEach((it, i) => {
    if (it.length !== size) {
      throw new RangeError(`${label}: ${what}[${i}] is ${it.length} bytes, expected ${size}`);
    }
    to.set(it, at + i * size);
  });
}

/**
 * Writes `keys[i]` → `values[i]` in one call as BPF_ANY (`elemFlags`: 0 or BPF_F_LOCK); returns
 * the number written.
 *
 * @throws MapBatchError with `processed` when the kernel stops part-way.
 */
export function updateBatch(
  map: BatchTarget,
  keys: BatchInput,
  values: BatchInput,
  elemFlags: number,
): number {
  const n = countOf(map.label, "keys", keys, map.keySize);
  const nv = countOf(map.label, "values", values, map.batchValueSize);
  if (n !== nv) throw new RangeError(`${map.label}: batch update of ${n} keys but ${nv} values`);
  if (n === 0) return 0;
  const keyBytes = n * map.keySize;
  const mem = scratch(keyBytes + n * map.batchValueSize);
  try {
    pack(map.label, "keys", keys, map.keySize, mem.bytes, 0);
    pack(map.label, "values", values, map.batchValueSize, mem.bytes, keyBytes);
    const call = new BpfCall(BpfCmd.MAP_UPDATE_BATCH, bpfAttr.batch);
    call.set("keys", mem.address).set("values", mem.address + BigInt(keyBytes));
    call.u32("count", n).u32("map_fd", map.fd).set("elem_flags", elemFlags);
    return invokeCounted(call, `update batch of ${n} in ${map.label}`, n);
  } finally {
    releaseScratch(mem);
  }
}

/**
 * Removes `keys` in one call; returns the number removed.
 *
 * @throws MapBatchError with `processed` when the kernel stops part-way (ENOENT for a
 * key that is not there).
 */
export function deleteBatch(map: BatchTarget, keys: BatchInput, elemFlags: number): number {
  const n = countOf(map.label, "keys", keys, map.keySize);
  if (n === 0) return 0;
  const mem = scratch(n * map.keySize);
  try {
    pack(map.label, "keys", keys, map.keySize, mem.bytes, 0);
    const call = new BpfCall(BpfCmd.MAP_DELETE_BATCH, bpfAttr.batch);
    call.set("keys", mem.address);
    call.u32("count", n).u32("map_fd", map.fd).set("elem_flags", elemFlags);
    return invokeCounted(call, `delete batch of ${n} in ${map.label}`, n);
  } finally {
    releaseScratch(mem);
  }
}

function invokeCounted(call: BpfCall, op: string, total: number): number {
  try {
    call.invoke(op);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    // The kernel writes back how many it did once it starts; a count still equal to
    // the request means it failed before touching any entry.
    const done = call.get("count");
    throw new MapBatchError(e.errno, op, done === total ? 0 : done, total);
  }
  return call.get("count");
}
