/**
 * A map's value storage that may move once (into the wasm JIT target's arena, see
 * `prepareArena` in src/vm/jit/wasm/runtime.ts), with the address spaces that must
 * follow it. @module
 */

import type { VmMemory } from "../memory.ts";

/** The bytes behind a map's `values`, and who must follow when they move. */
export class MovableBytes {
  #bytes: Uint8Array;
  /** Address spaces that have a region over the bytes (told when they move). */
  #spaces: WeakRef<VmMemory>[] = [];
  #home: object | undefined;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Who took the bytes with {@link move}, or undefined. */
  get home(): object | undefined {
    return this.#home;
  }

  /** Records that `space` has a region over the bytes. */
  note(space: VmMemory): void {
    // Dropped spaces go here too, not only when the bytes move.
    if (this.#spaces.length >= 64) this.#spaces = this.#spaces.filter((r) => r.deref());
    this.#spaces.push(new WeakRef(space));
  }

  /**
   * Copies the bytes into `bytes` (as long) and uses those from now on, for `home`;
   * every address space with a region over the bytes of `owner` follows. Once only.
   */
  move(owner: object, bytes: Uint8Array, home: object): void {
    const what = String(owner);
    if (this.#home !== undefined) throw new Error(`${what}: the values moved already`);
    if (bytes.length !== this.#bytes.length)
      throw new RangeError(
        `${what}: relocate needs ${this.#bytes.length} bytes, not ${bytes.length}`,
      );
    bytes.set(this.#bytes);
    this.#bytes = bytes;
    this.#home = home;
    const live: WeakRef<VmMemory>[] = [];
    for (const ref of this.#spaces) {
      const space = ref.deref();
      if (space === undefined) continue;
      live.push(ref);
      const id = space.regionOf(owner);
      if (id !== undefined) space.rebind(id, bytes);
    }
    this.#spaces = live;
  }
}
