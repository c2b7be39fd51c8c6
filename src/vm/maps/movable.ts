/**
 * A map's value storage that may move once (into the wasm JIT target's arena, see
 * `prepareArena` in src/vm/jit/wasm/runtime.ts), while only one address space has a
 * region over it. @module
 */

import type { VmMemory } from "../memory.ts";

/**
 * The bytes behind a map's `values`, and which address space has a region over them.
 * No reference to that space is kept (a map may outlive every program that used it):
 * only its serial number, and whether a second space came.
 */
export class MovableBytes {
  #bytes: Uint8Array;
  #home: object | undefined;
  /** Serial of the first address space with a region over the bytes. */
  #space: number | undefined;
  /** Set once a second address space has a region over the bytes: they stay. */
  #shared = false;

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
    if (this.#space === undefined) this.#space = space.serial;
    else if (this.#space !== space.serial) this.#shared = true;
  }

  /** Whether the bytes may move for a program of `space` (no other space has them, and they never moved). */
  canMove(space: VmMemory): boolean {
    return (
      this.#home === undefined &&
      !this.#shared &&
      (this.#space === undefined || this.#space === space.serial)
    );
  }

  /**
   * Copies the bytes into `bytes` (as long) and uses those from now on, for `home`;
   * `space`'s region over the bytes of `owner` (and its windows) follow. Only where
   * {@link canMove} says so.
   */
  move(owner: object, bytes: Uint8Array, home: object, space: VmMemory): void {
    const what = String(owner);
    if (!this.canMove(space))
      throw new Error(`${what}: the values moved already or another address space has them`);
    if (bytes.length !== this.#bytes.length)
      throw new RangeError(
        `${what}: relocate needs ${this.#bytes.length} bytes, not ${bytes.length}`,
      );
    bytes.set(this.#bytes);
    this.#bytes = bytes;
    this.#home = home;
    const id = space.regionOf(owner);
    if (id !== undefined) space.rebind(id, bytes);
  }
}
