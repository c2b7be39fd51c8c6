/**
 * The one place tsbpf calls into native code. Every other module reaches the kernel
 * through the typed functions of src/kernel/sys/.
 *
 * `syscall(2)` is declared with a fixed prototype rather than as variadic: on the
 * Linux ABIs tsbpf supports (x86-64, arm64) variadic integer arguments travel in the
 * same registers as fixed ones, and a fixed prototype is several times cheaper to call
 * through koffi.
 */
import { koffi } from "./koffi.ts";

const libc = koffi.load("libc.so.6");

/**
 * `long syscall(long nr, long a, long b, unsigned long c)` with integer arguments only,
 * pointers passed as addresses (a JS number: user-space addresses fit in 53 bits).
 *
 * This is the prototype of the hot paths ({@link NativeMemory.addr}). koffi calls a
 * function whose parameters cannot hold a JS callback (no pointer type) through its
 * "fast call" path, which skips the per-call finalisation a `void *` parameter needs;
 * and a number converts faster than a pointer object. Measured on map lookups
 * (bench/micro/map-lookup-paths.ts, 2,000-call windows, best and 10th percentile): 373–408 ns
 * here vs 383–415 ns with `void *` and the koffi pointer; C makes the same call in
 * 341–346 ns.
 */
export const syscall4 = libc.func("long syscall(long nr, long a, long b, unsigned long c)") as (
  nr: number,
  a: number,
  b: number,
  c: number,
) => number;

/** `long syscall(long nr, ...)` with five integer arguments (pointers passed as addresses). */
export const syscall5 = libc.func(
  "long syscall(long nr, long a, long b, long c, long d, long e)",
) as (
  nr: number,
  a: number | bigint,
  b: number | bigint,
  c: number | bigint,
  d: number | bigint,
  e: number | bigint,
) => number;

export const closeFd = libc.func("int close(int fd)") as (fd: number) => number;

export const ioctlPtr = libc.func("int ioctl(int fd, unsigned long req, void *arg)") as (
  fd: number,
  req: number,
  arg: unknown,
) => number;

export const ioctlInt = libc.func("int ioctl(int fd, unsigned long req, unsigned long arg)") as (
  fd: number,
  req: number,
  arg: number,
) => number;

export const mmap = libc.func(
  "void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)",
) as (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => unknown;

export const munmap = libc.func("int munmap(void *addr, size_t len)") as (
  addr: unknown,
  len: number,
) => number;

/** The calling thread's errno right after a native call. */
export function lastErrno(): number {
  return koffi.errno();
}

/** Native memory owned by JavaScript: an address for the kernel and a zero-copy view. */
export interface NativeMemory {
  /** Opaque koffi pointer (pass to native functions). */
  readonly ptr: unknown;
  /** The address, for storing in a syscall attribute. */
  readonly address: bigint;
  /** The same address as a number, for {@link syscall4} (user-space addresses fit in 53 bits). */
  readonly addr: number;
  /** Zero-copy bytes over the memory. */
  readonly bytes: Uint8Array;
  readonly size: number;
}

/** Allocates `size` bytes of native memory (zeroed). Release with {@link freeNative}. */
export function allocNative(size: number): NativeMemory {
  const n = Math.max(size, 8);
  const ptr = koffi.alloc("uint8_t", n);
  const bytes = new Uint8Array(koffi.view(ptr, n), 0, size);
  bytes.fill(0);
  const address = koffi.address(ptr) as bigint;
  return { ptr, address, addr: Number(address), bytes, size };
}

/** Releases memory from {@link allocNative}. */
export function freeNative(mem: NativeMemory): void {
  koffi.free(mem.ptr);
}

/** A zero-copy view of `len` bytes at a native pointer (e.g. an mmap'd region). */
export function viewNative(ptr: unknown, len: number): Uint8Array {
  return new Uint8Array(koffi.view(ptr, len));
}

/** The address of a native pointer. */
export function addressOf(ptr: unknown): bigint {
  return koffi.address(ptr);
}

const clockGettime = libc.func("int clock_gettime(int clk, void *ts)") as (
  clk: number,
  ts: unknown,
) => number;
let timespec: NativeMemory | undefined;

/** clock ids for {@link clockGettimeNs} (from <time.h>). */
export const Clock = { REALTIME: 0, MONOTONIC: 1, BOOTTIME: 7 } as const;

/**
 * clock_gettime(2) in nanoseconds. CLOCK_BOOTTIME is what the kernel stamps BPF
 * objects with (`bpf_prog_info.load_time`); node has no binding for it.
 */
export function clockGettimeNs(clock: number): bigint {
  timespec ??= allocNative(16);
  if (clockGettime(clock, timespec.ptr) !== 0) {
    throw new Error(`clock_gettime(${clock}) failed: errno ${lastErrno()}`);
  }
  const v = new DataView(timespec.bytes.buffer, timespec.bytes.byteOffset, 16);
  return v.getBigInt64(0, true) * 1_000_000_000n + v.getBigInt64(8, true);
}
