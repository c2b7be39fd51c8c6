/**
 * cgroup links: a cgroup program (skb, sock, sock_addr, sockopt, sysctl, device...) on
 * a cgroup v2 directory, through BPF_LINK_CREATE with the directory's fd.
 *
 * @module
 */

import { closeSync, openSync } from "node:fs";
import { attachTypeName } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { type Link, newLink } from "./link.ts";
import { linkCreate } from "./link-create.ts";

/**
 * Attaches `prog` to the cgroup at `cgroup` (a cgroup2 directory path, or an open fd)
 * for `attachType` (`AttachType.CGROUP_INET_INGRESS`, ...).
 *
 * @throws Error when the directory cannot be opened; SyscallError from the kernel
 * (EINVAL: the program was loaded for another attach type; EBADF: not a cgroup2 dir).
 * @example
 * ```ts
 * using link = attachCgroup(prog, "/sys/fs/cgroup/unified", AttachType.CGROUP_INET_EGRESS);
 * ```
 */
export function attachCgroup(prog: Program, cgroup: string | number, attachType: number): Link {
  const what = `cgroup ${typeof cgroup === "string" ? cgroup : `fd ${cgroup}`} (${attachTypeName(attachType) ?? attachType})`;
  let fd: number;
  if (typeof cgroup === "number") fd = cgroup;
  else {
    try {
      fd = openSync(cgroup, "r");
    } catch (e) {
      throw new Error(`cannot open cgroup ${cgroup}: ${(e as Error).message}`, { cause: e });
    }
  }
  try {
    return newLink({ fd: linkCreate(prog, fd, attachType, what), description: what });
  } finally {
    if (typeof cgroup === "string") closeSync(fd);
  }
}
