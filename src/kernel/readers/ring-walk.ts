/**
 * The loop that walks a BPF ring buffer's record headers and calls the reader's
 * callback for each record ({@link RawRingReader.consume}), and the per-reader copies
 * of it that let V8 inline that callback.
 *
 * Why copies: V8 inlines a called function into the caller's optimized code when the
 * call site has only seen that function (or a few). One walk shared by every reader
 * sees every reader's callback (and those of `onRecord` and the iterator, which go
 * through it too), goes megamorphic, and calls each record's callback out of line.
 * Each reader gets its own copy made from the walk's source ({@link ownWalker}), with
 * its own feedback, so a reader always given the same callback gets it inlined. A
 * drain of a full 16 MiB ring took ~4-6 ns a record with the callback inlined, 8-13 ns
 * once the walk had seen three callbacks (`node --import tsx
 * bench/micro/ringbuf-drain.ts rawConsumeWords`, then with the other ways before it).
 *
 * @module
 */

// Indexes of what walkRecords leaves in its `out` array.
/** Bytes walked (records, headers, padding), up to and including the last record delivered. */
export const WALK_USED = 0;
/** The offset in the ring after them. */
export const WALK_OFF = 1;
/** Discarded records skipped. */
export const WALK_SKIPPED = 2;
/** The length of a record that goes past the producer position, or untouched (set it to -1). */
export const WALK_BAD_LEN = 3;

/**
 * A record callback: `length` bytes of `data` from `offset`, valid during the call.
 * Returning `false` ends the read after this record (libbpf's callbacks return an error
 * for that); anything else, or nothing, goes on.
 */
export type RecordFn = (data: Uint8Array, offset: number, length: number) => unknown;

/**
 * Walks up to `limit` committed records of a ring from offset `off`, `avail` bytes
 * being there up to the producer position, calling `fn(data, offset, length)` for each
 * record that is not discarded; returns how many `fn` saw. Stops at a busy record, and
 * at a header whose length goes past `avail` (the length left in `out[WALK_BAD_LEN]`).
 * `out` gets what was walked ({@link WALK_USED}, {@link WALK_OFF},
 * {@link WALK_SKIPPED}) also when `fn` throws: then the walk ends just past the record
 * that threw, and just past a record whose `fn` returned `false`.
 *
 * `words` holds the headers: the header of the record at offset `o` is
 * `words[base + (o >> 2)]` (the ring's data pages, mapped twice, `mask` = size - 1);
 * `data` the records (offset 0 = the first data page). The header is the kernel's
 * `struct bpf_ringbuf_hdr`: a u32 length with BUSY in bit 31 (the sign here) and
 * DISCARD in bit 30, then a u32 page offset; records are 8-byte aligned. With
 * `atomic`, headers are read with `Atomics.load` (what acquire needs off x86; see
 * RawRingReader.fill).
 *
 * Self-contained on purpose: literal constants, nothing from this module, no inner
 * functions. {@link ownWalker} compiles copies of it from its source text.
 */
export function walkRecords(
  words: Int32Array,
  base: number,
  mask: number,
  atomic: boolean,
  off: number,
  avail: number,
  limit: number,
  data: Uint8Array,
  fn: RecordFn,
  out: Int32Array,
): number {
  // Untagged once here, not in every turn of the loop (V8 re-checks a parameter's
  // type where it is used): steadier, ~4.4 ns a record against 4.4-6.1.
  const b = base | 0;
  const m = mask | 0;
  const lim = limit | 0;
  const av = avail | 0;
  const plain = atomic !== true;
  let o = off | 0;
  let used = 0;
  let count = 0;
  let skipped = 0;
  try {
    while (used < av && count < lim) {
      const at = b + (o >> 2);
      const word = plain ? words[at]! : Atomics.load(words, at);
      if (word < 0) break; // BUSY
      const len = word & 0x3fffffff; // without BUSY and DISCARD
      const total = (len + 8 + 7) & ~7; // with the 8-byte header, 8-byte aligned
      if (total > av - used) {
        out[3] = len;
        break;
      }
      const start = o + 8;
      used += total;
      o = (o + total) & m;
      if ((word & 0x40000000) === 0) {
        count++;
        // `false` from `fn` ends the walk after its record. A callback that returns
        // nothing costs nothing here: V8 inlines it and folds the test away.
        if (fn(data, start, len) === false) break;
      } else skipped++;
    }
  } finally {
    out[0] = used;
    out[1] = o;
    out[2] = skipped;
  }
  return count;
}

/**
 * {@link RawRingReader.fill}'s walk over one reader's ring: the walk of
 * {@link walkRecords}, each record's (offset, length) stored in `pairs` (at most
 * `limit` records, and no more than `pairs` holds) instead of given to a callback;
 * the same `out`. A closure over the ring rather than a function of it, and a loop
 * shaped for V8: see the comments inside.
 */
export function pairWalker(
  words: Int32Array,
  base: number,
  mask: number,
  atomic: boolean,
): (pairs: Uint32Array, off: number, avail: number, limit: number, out: Int32Array) => number {
  const b = base | 0;
  const m = mask | 0;
  const plain = atomic !== true;
  // A closure over the ring's words, not a function of them and of the other
  // arguments: V8 (Node 20) reloaded and re-checked those arguments on every record
  // there (its disassembly), and this walk of a full 16 MiB ring took ~5.2 ns a record
  // that way against 3.2-4 as a closure; drainBatches in `npm run bench -- ringbuf`
  // went from 0.34-0.44x C to 0.51-0.60x.
  return (pairs, off, avail, limit, out) => {
    const av = avail | 0;
    const end = Math.min(2 * limit, pairs.length & ~1) | 0;
    let o = off | 0;
    let left = av;
    let i = 0;
    let skipped = 0;
    // The last record's header word, its length and its size with the header and
    // padding. A header equal to it is a committed record of the same length: one
    // comparison. The next header is `step` bytes on, whatever was read: its load does
    // not wait for this one (a size read from the ring would chain each load to the one
    // before, as C's walk is). Most rings carry one struct. 0, an empty record of 8
    // bytes, to begin with.
    let same = 0;
    let sameLen = 0;
    let step = 8;
    while (left > 0 && i < end) {
      const at = b + (o >> 2);
      const word = plain ? words[at]! : Atomics.load(words, at);
      if (word !== same) {
        if (word < 0) break; // BUSY
        const len = word & 0x3fffffff;
        const total = (len + 8 + 7) & ~7;
        if (total > left) {
          out[3] = len;
          break;
        }
        if ((word & 0x40000000) !== 0) {
          skipped++;
          left -= total;
          o = (o + total) & m;
          continue;
        }
        same = word;
        sameLen = len;
        step = total;
      } else if (step > left) {
        out[3] = sameLen;
        break;
      }
      pairs[i] = o + 8;
      pairs[i + 1] = sameLen;
      i += 2;
      left -= step;
      o = (o + step) & m;
    }
    out[0] = av - left;
    out[1] = o;
    out[2] = skipped;
    return i >> 1;
  };
}

let copies = 0;
/** Taken at load: a later override of `toString` must not decide what gets compiled. */
const sourceOf = Function.prototype.toString;

/**
 * A copy of {@link walkRecords} with its own inline caches in V8, compiled from its
 * source; {@link walkRecords} itself where code cannot be made from strings (`node
 * --disallow-code-generation-from-strings`, a content security policy), or where the
 * copy does not work: code instrumented for coverage (istanbul/nyc) refers to counters
 * outside the function, which a copy cannot see. The source is the function's own, not
 * text from outside. (`walk` is for tests: what to copy.)
 */
export function ownWalker(walk: typeof walkRecords = walkRecords): typeof walkRecords {
  // The number makes each text new: V8 caches what `new Function` compiles by its
  // text, feedback included, and equal texts would share one set of caches again.
  copies++;
  try {
    const copy = new Function(
      `return ${sourceOf.call(walk)} // copy ${copies}`,
    )() as typeof walkRecords;
    return walksAlike(copy) ? copy : walk;
  } catch {
    return walk;
  }
}

const neverCalled: RecordFn = () => {
  throw new Error("ring walk check: a discarded record was delivered");
};

/**
 * Whether `copy` walks a ring of one discarded record as the walk must: its callback is
 * never called (a call here would teach its call site a callback the reader never
 * gives), and a copy that cannot run at all throws here rather than in a reader.
 */
function walksAlike(copy: typeof walkRecords): boolean {
  const ring = new Int32Array([0x40000000 | 4, 0, 0, 0]); // DISCARD, 4 bytes: 16 in all
  const out = new Int32Array(4).fill(-1);
  const n = copy(ring, 0, 15, false, 0, 16, 1, new Uint8Array(ring.buffer), neverCalled, out);
  return n === 0 && out[0] === 16 && out[1] === 0 && out[2] === 1 && out[3] === -1;
}
