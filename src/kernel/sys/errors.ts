import { errnoMessage, errnoName } from "../../uapi/errno.ts";

/**
 * A system call failed. `errno` is the raw number, `code` its name ("ENOENT"), and the
 * message says what was being attempted, then the reason as strerror(3) words it:
 * `map lookup (fd 5): No such file or directory`.
 */
export class SyscallError extends Error {
  override readonly name: string = "SyscallError";
  /** The raw errno value. */
  readonly errno: number;
  /** The errno name, e.g. "EPERM"; "E<number>" when unknown. */
  readonly code: string;
  /** What tsbpf was doing, e.g. "map create (hash)". */
  readonly operation: string;

  constructor(errno: number, operation: string, detail?: string) {
    const reason = errnoMessage(errno) ?? `Unknown error ${errno}`;
    super(`${operation}: ${reason}${detail ? ` (${detail})` : ""}`);
    this.errno = errno;
    this.code = errnoName(errno) ?? `E${errno}`;
    this.operation = operation;
  }
}
