/**
 * System call numbers tsbpf uses, per architecture (from the kernel's syscall tables:
 * arch/x86/entry/syscalls/syscall_64.tbl and the generic table arm64 uses).
 */
/** A system call tsbpf makes directly. */
export type SyscallName =
  | "bpf"
  | "perf_event_open"
  | "mount"
  | "sched_setaffinity"
  | "sched_getaffinity"
  | "unshare";

const TABLE: Partial<Record<string, Record<SyscallName, number>>> = {
  x64: {
    bpf: 321,
    perf_event_open: 298,
    mount: 165,
    sched_setaffinity: 203,
    sched_getaffinity: 204,
    unshare: 272,
  },
  arm64: {
    bpf: 280,
    perf_event_open: 241,
    mount: 40,
    sched_setaffinity: 122,
    sched_getaffinity: 123,
    unshare: 97,
  },
};

/**
 * The number of `name` on this machine's architecture.
 * @throws Error naming the architecture when tsbpf does not know its numbers.
 */
export function syscallNumber(name: SyscallName): number {
  const table = TABLE[process.arch];
  if (!table) {
    throw new Error(
      `${name}(2): tsbpf knows the system call numbers of x64 and arm64 only, not ${process.arch}`,
    );
  }
  return table[name];
}
