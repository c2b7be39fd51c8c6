/**
 * BPF_LINK_CREATE, shared by every link kind, and the program-type check each attach
 * function does before it touches the kernel.
 *
 * @module
 */

import { attachTypeName, BpfCmd, bpfAttr, progTypeName } from "../../uapi/index.ts";
import { missingFromKernel } from "../features/kernel-enum.ts";
import type { Program } from "../programs/program.ts";
import { BpfCall, Fd, SyscallError } from "../sys/index.ts";

/**
 * Creates a bpf_link: `prog` to `target` (an fd or ifindex, 0 when the hook has none)
 * with `attachType`; `fill` sets the attach-type-specific fields. `what` names the hook
 * in errors ("tracepoint syscalls:sys_enter_getpid").
 *
 * @throws SyscallError naming the program and the hook; NotSupportedError when the
 *   kernel has no such attach type at all (its BTF's enum bpf_attach_type lacks it).
 */
export function linkCreate(
  prog: Program,
  target: number,
  attachType: number,
  what: string,
  fill?: (call: BpfCall) => void,
  flags = 0,
): Fd {
  const call = new BpfCall(BpfCmd.LINK_CREATE, bpfAttr.linkCreate);
  call
    .u32("prog_fd", prog.fd)
    .u32("target_fd", target)
    .u32("attach_type", attachType)
    .u32("flags", flags);
  fill?.(call);
  try {
    return new Fd(call.invoke(`link create (${prog} to ${what})`));
  } catch (e) {
    // an attach type the kernel does not know at all (tcx before 6.6): say so
    const typeName = attachTypeName(attachType);
    if (e instanceof SyscallError && e.code === "EINVAL" && typeName !== undefined) {
      const name = `attach type ${typeName}`;
      const missing = missingFromKernel(
        "attach",
        attachType,
        `attaching ${prog} to ${what}`,
        e.errno,
        name,
      );
      if (missing) throw missing;
    }
    throw e;
  }
}

/**
 * Fails with a sentence when `prog` is not of one of the `types` a hook takes, before
 * any system call is made.
 */
export function expectProgType(prog: Program, types: readonly number[], hook: string): void {
  if (types.includes(prog.type)) return;
  const want = types.map((t) => progTypeName(t) ?? `type ${t}`).join(" or ");
  throw new TypeError(`${prog} cannot attach to ${hook}: that needs a ${want} program`);
}
