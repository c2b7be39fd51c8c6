/**
 * Raw tracepoints (`SEC("raw_tp/NAME")`, `raw_tracepoint.w`): BPF_RAW_TRACEPOINT_OPEN
 * by name gives a raw_tracepoint bpf_link.
 *
 * @module
 */

import { BpfCmd, bpfAttr, ProgType } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { BpfCall, Fd, SyscallError } from "../sys/index.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType } from "./link-create.ts";

/**
 * BPF_RAW_TRACEPOINT_OPEN: `name` is the tracepoint, or undefined for programs that
 * carry their target (tp_btf, fentry/fexit, LSM loaded with an attach BTF id).
 * @internal
 */
export function rawTracepointOpen(
  prog: Program,
  name: string | undefined,
  what: string,
  cookie = 0n,
): Fd {
  const call = new BpfCall(BpfCmd.RAW_TRACEPOINT_OPEN, bpfAttr.rawTracepoint);
  call.u32("prog_fd", prog.fd);
  if (name !== undefined) call.string("name", name);
  if (cookie) call.set("cookie", cookie);
  try {
    return new Fd(call.invoke(`raw tracepoint open (${prog} to ${what})`));
  } catch (e) {
    if (e instanceof SyscallError && e.code === "ENOENT" && name !== undefined) {
      throw new SyscallError(
        e.errno,
        `raw tracepoint open (${prog} to ${what})`,
        `the kernel has no tracepoint named ${name}`,
      );
    }
    throw e;
  }
}

/** Options of {@link attachRawTracepoint}. */
export interface RawTracepointOptions {
  /** bpf_get_attach_cookie() value (Linux >= 6.10). */
  readonly cookie?: bigint;
}

/**
 * Attaches a raw tracepoint program (or a writable one) to tracepoint `name`
 * ("sys_enter", "sched_switch").
 *
 * @throws SyscallError (ENOENT: no such tracepoint).
 * @example
 * ```ts
 * using link = attachRawTracepoint(prog, "sys_enter");
 * ```
 */
export function attachRawTracepoint(
  prog: Program,
  name: string,
  opts: RawTracepointOptions = {},
): Link {
  const what = `raw tracepoint ${name}`;
  expectProgType(prog, [ProgType.RAW_TRACEPOINT, ProgType.RAW_TRACEPOINT_WRITABLE], what);
  return newLink({ fd: rawTracepointOpen(prog, name, what, opts.cookie), description: what });
}
