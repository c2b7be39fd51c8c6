/**
 * What kind of BPF object a descriptor refers to, read from /proc/self/fd (bpftool's
 * get_fd_type): `anon_inode:bpf-prog`, `bpf-map`, `bpf-link`.
 */
import { readlinkSync } from "node:fs";

/** The kinds a pinned object can be. */
export type FdKind = "prog" | "map" | "link" | "unknown";

/** The kind of BPF object behind `fd`. */
export function fdKind(fd: number): FdKind {
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return "unknown";
  }
  if (target.includes("bpf-map")) return "map";
  if (target.includes("bpf-prog")) return "prog";
  if (target.includes("bpf-link")) return "link";
  return "unknown";
}
