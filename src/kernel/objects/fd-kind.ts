/**
 * What kind of BPF object a descriptor refers to, read from /proc/self/fd (bpftool's
 * get_fd_type): `anon_inode:bpf-prog`, `bpf-map`, `bpf-link`. BPF_OBJ_GET_INFO_BY_FD
 * answers for any kind — a map's fd asked for program info fills the buffer with map
 * info — so the classes' `fromFd` check the kind first.
 */
import { readlinkSync } from "node:fs";
import { Errno } from "../../uapi/index.ts";
import { SyscallError } from "../sys/index.ts";

/** The kinds a pinned object can be. */
export type FdKind = "prog" | "map" | "link" | "unknown";

const WORDS: Record<FdKind, string> = {
  prog: "a BPF program",
  map: "a BPF map",
  link: "a BPF link",
  unknown: "not a BPF program, map or link",
};

/** The kind of BPF object behind `fd` ("unknown" also when /proc is not mounted). */
export function fdKind(fd: number): FdKind {
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return "unknown";
  }
  if (target.includes("bpf-map")) return "map";
  if (target.includes("bpf-prog")) return "prog";
  if (target.includes("bpf-link") || target.includes("bpf_link")) return "link";
  return "unknown";
}

/**
 * Throws unless `fd` is a `kind` object. A descriptor /proc cannot name is left for the
 * kernel's info call to judge.
 * @throws SyscallError (EINVAL) naming what `fd` is instead
 */
export function requireFdKind(
  fd: number,
  kind: Exclude<FdKind, "unknown">,
  operation: string,
): void {
  const found = fdKind(fd);
  if (found === kind || found === "unknown") return;
  throw new SyscallError(
    Errno.EINVAL,
    operation,
    `fd ${fd} is ${WORDS[found]}, not ${WORDS[kind]}`,
  );
}
