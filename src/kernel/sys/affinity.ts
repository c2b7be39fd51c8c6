/**
 * sched_getaffinity(2) / sched_setaffinity(2) for the calling thread: which CPUs the
 * scheduler may run it on. Per-CPU kernel state (perf rings, per-CPU maps) is written
 * on the CPU a program runs on, and BPF_PROG_TEST_RUN runs on the caller's CPU, so a
 * caller that must know that CPU pins itself first.
 */
import { SyscallError } from "./errors.ts";
import { allocNative, freeNative, lastErrno, syscall4 } from "./native.ts";
import { syscallNumber } from "./numbers.ts";

/** Bytes of the CPU mask passed to the kernel: 8192 CPUs, more than any kernel's NR_CPUS default. */
const MASK_BYTES = 1024;

/** The CPUs the calling thread may run on. */
export function threadAffinity(): number[] {
  const mem = allocNative(MASK_BYTES);
  try {
    const r = syscall4(syscallNumber("sched_getaffinity"), 0, MASK_BYTES, mem.addr);
    if (r < 0) throw new SyscallError(lastErrno(), "sched_getaffinity");
    const cpus: number[] = [];
    // the kernel returns the bytes it wrote; the rest of the mask stays zero
    for (let i = 0; i < r * 8; i++) if ((mem.bytes[i >> 3]! >> (i & 7)) & 1) cpus.push(i);
    return cpus;
  } finally {
    freeNative(mem);
  }
}

/**
 * Lets the calling thread run only on `cpus`.
 * @throws RangeError for an empty list or a CPU outside the mask; SyscallError when the
 * kernel refuses (EINVAL: none of `cpus` is online or allowed to this process)
 */
export function setThreadAffinity(cpus: readonly number[]): void {
  if (cpus.length === 0) throw new RangeError("setThreadAffinity: no CPU given");
  const mem = allocNative(MASK_BYTES);
  try {
    for (const c of cpus) {
      if (!Number.isInteger(c) || c < 0 || c >= MASK_BYTES * 8)
        throw new RangeError(`setThreadAffinity: CPU ${c} is not a CPU number`);
      mem.bytes[c >> 3]! |= 1 << (c & 7);
    }
    const r = syscall4(syscallNumber("sched_setaffinity"), 0, MASK_BYTES, mem.addr);
    if (r < 0) throw new SyscallError(lastErrno(), "sched_setaffinity", `CPUs ${cpus.join(",")}`);
  } finally {
    freeNative(mem);
  }
}
