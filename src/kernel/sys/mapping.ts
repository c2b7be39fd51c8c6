/**
 * Shared memory mappings of kernel objects (ring buffer maps, perf event rings) with
 * a safe end of life.
 *
 * A zero-copy view handed to JavaScript cannot be revoked: koffi's ArrayBuffers over
 * native memory do not detach. If `close()` simply unmapped the ring, a view kept by
 * mistake would crash the process on its next read. So `close()` replaces the ring's
 * pages, at the same address and in one step (`MAP_FIXED`), with an anonymous private
 * mapping: the kernel object is released at once, stale views read zeros (the zero
 * page) and a write to one lands in a private page instead of crashing, and the
 * placeholder (address space only until written) is unmapped when the last view is
 * garbage-collected.
 *
 * A view of a *live* read-only mapping (a ring buffer's data pages, which the kernel
 * maps without write permission) still crashes the process on a write: such views
 * are handed out only on explicit request (`zeroCopy`, `RawRingReader`).
 *
 * @module
 */

import { SyscallError } from "./errors.ts";
import { koffi } from "./koffi.ts";

const libc = koffi.load("libc.so.6");
const mmapFn = libc.func(
  "void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)",
) as (addr: unknown, len: number, prot: number, flags: number, fd: number, off: number) => unknown;
const munmapFn = libc.func("int munmap(void *addr, size_t len)") as (
  addr: unknown,
  len: number,
) => number;
const sysconf = libc.func("long sysconf(int name)") as (name: number) => number;

const PROT_READ = 0x1;
const PROT_WRITE = 0x2;
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_FAILED = 0xffffffffffffffffn;
const _SC_PAGESIZE = 30;

let pageSizeCache = 0;

/** The system page size in bytes (sysconf(_SC_PAGESIZE), cached). */
export function pageSize(): number {
  if (pageSizeCache === 0) pageSizeCache = sysconf(_SC_PAGESIZE);
  return pageSizeCache;
}

/** Unmaps placeholders once no view of them is reachable. */
const placeholders = new FinalizationRegistry<{ ptr: unknown; length: number }>((m) => {
  munmapFn(m.ptr, m.length);
});

/** Unmaps real mappings that were never closed, once no view of them is reachable. */
const forgotten = new FinalizationRegistry<{ ptr: unknown; length: number }>((m) => {
  munmapFn(m.ptr, m.length);
});

/**
 * How a {@link SharedMapping} may be accessed. "read-private" maps the file privately
 * (MAP_PRIVATE), for files whose owner refuses shared mappings, such as
 * /sys/kernel/btf/vmlinux.
 */
export type MappingAccess = "read" | "read-write" | "read-private";

/**
 * `mmap` of a kernel object's fd (shared, or private for "read-private"), exposed as
 * one ArrayBuffer. Views over
 * {@link buffer} are zero-copy; after {@link close} they read zeros (see the module
 * comment), never freed memory.
 */
export class SharedMapping {
  /** Zero-copy bytes of the mapping. */
  readonly buffer: ArrayBuffer;
  /** Length in bytes. */
  readonly length: number;
  #ptr: unknown;
  readonly #token = {};

  private constructor(ptr: unknown, length: number) {
    this.#ptr = ptr;
    this.length = length;
    this.buffer = koffi.view(ptr, length);
    forgotten.register(this.buffer, { ptr, length }, this.#token);
  }

  /**
   * Maps `length` bytes of `fd` at `offset` (a multiple of the page size).
   * @param what names the object in errors, e.g. `ring buffer map "events" (fd 7)`.
   * @throws SyscallError naming `what` when the kernel refuses.
   */
  static map(
    fd: number,
    length: number,
    offset: number,
    access: MappingAccess,
    what: string,
  ): SharedMapping {
    const prot = access === "read-write" ? PROT_READ | PROT_WRITE : PROT_READ;
    const flags = access === "read-private" ? MAP_PRIVATE : MAP_SHARED;
    const ptr = mmapFn(null, length, prot, flags, fd, offset);
    if (ptr === null || koffi.address(ptr) === MAP_FAILED) {
      throw new SyscallError(
        koffi.errno(),
        `mmap ${what}`,
        `${length} bytes at offset ${offset}, ${access}`,
      );
    }
    return new SharedMapping(ptr, length);
  }

  /** True once {@link close} has run. */
  get closed(): boolean {
    return this.#ptr === null;
  }

  /**
   * Releases the kernel object's pages. Views keep working and read zeros; the address
   * range is unmapped when they are garbage-collected. Safe to call more than once.
   */
  close(): void {
    const ptr = this.#ptr;
    if (ptr === null) return;
    this.#ptr = null;
    forgotten.unregister(this.#token);
    // Private anonymous pages, writable: a view kept past close() reads zeros, and a
    // write to it (even to a view of a read-only mapping) lands there harmlessly.
    const fixed = mmapFn(
      ptr,
      this.length,
      PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
      -1,
      0,
    );
    if (fixed === null || koffi.address(fixed) === MAP_FAILED) {
      // Could not put a placeholder there: unmapping is still right for a reader that
      // follows the documented lifetime of its views.
      munmapFn(ptr, this.length);
      return;
    }
    placeholders.register(this.buffer, { ptr, length: this.length });
  }
}
