/**
 * The text and errno of a failure as bpftool prints them (strerror). Kept apart from
 * selectors.ts so that commands that never call the kernel (`btf dump file`) do not
 * load the syscall layer to report an error.
 *
 * @module
 */

import { SyscallError } from "../../kernel/sys/errors.ts";
import { InputFileError } from "../../kernel/system/input-file.ts";
import { errnoMessage, errnoNumber } from "../../uapi/errno.ts";

/** strerror() text of a failed system call (bpf(2) or node's fs), else the message. */
export function reason(e: unknown): string {
  if (e instanceof InputFileError && e.code === undefined) return e.detail;
  if (e instanceof SyscallError) return errnoMessage(e.errno) ?? `Unknown error ${e.errno}`;
  const code = (e as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") {
    const n = errnoNumber(code);
    const m = n === undefined ? undefined : errnoMessage(n);
    if (m) return m;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The errno of a failed system call, if `e` is one. */
export function errnoOf(e: unknown): number | undefined {
  if (e instanceof SyscallError) return e.errno;
  const errno = (e as { errno?: unknown } | undefined)?.errno;
  if (typeof errno === "number" && errno > 0) return errno;
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? errnoNumber(code) : undefined;
}
