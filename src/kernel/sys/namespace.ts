/** unshare(2) of the network namespace, for tests that build their own networks. */
import { SyscallError } from "./errors.ts";
import { lastErrno, syscall4 } from "./native.ts";
import { syscallNumber } from "./numbers.ts";

const CLONE_NEWNET = 0x40000000;

/**
 * Moves the calling thread (Node's main thread: where tsbpf makes its system calls, and
 * where child processes are forked from) into a new, empty network namespace. Other
 * threads stay where they were; sysfs keeps showing the namespace it was mounted in.
 * @throws SyscallError (EPERM without CAP_SYS_ADMIN).
 */
export function unshareNetworkNamespace(): void {
  if (syscall4(syscallNumber("unshare"), CLONE_NEWNET, 0, 0) < 0)
    throw new SyscallError(lastErrno(), "unshare (new network namespace)");
}
