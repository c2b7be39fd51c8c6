/**
 * File descriptors owned by tsbpf objects. Every kernel object (map, program, link,
 * BTF) holds one {@link Fd}; `close()` is idempotent, and a FinalizationRegistry closes
 * descriptors whose owner was garbage-collected without being closed.
 */
import { closeFd } from "./native.ts";

let openCount = 0;

const registry = new FinalizationRegistry<number>((fd) => {
  closeFd(fd);
  openCount--;
});

/** An owned file descriptor. */
export class Fd {
  #fd: number;

  /** Takes ownership of `fd` (a non-negative descriptor returned by the kernel). */
  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) throw new RangeError(`invalid file descriptor ${fd}`);
    this.#fd = fd;
    openCount++;
    registry.register(this, fd, this);
  }

  /** The descriptor number; throws if already closed. */
  get value(): number {
    if (this.#fd < 0) throw new Error("file descriptor already closed");
    return this.#fd;
  }

  /** True once {@link close} has run. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Closes the descriptor. Safe to call more than once. */
  close(): void {
    if (this.#fd < 0) return;
    registry.unregister(this);
    closeFd(this.#fd);
    this.#fd = -1;
    openCount--;
  }

  /** Releases ownership without closing; the caller now owns the number. */
  release(): number {
    const fd = this.value;
    registry.unregister(this);
    this.#fd = -1;
    openCount--;
    return fd;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** How many {@link Fd}s are open in this process (for leak checks in tests). */
export function openFdCount(): number {
  return openCount;
}
