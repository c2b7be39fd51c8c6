/**
 * Pinning: giving a BPF object a path on a bpf filesystem (bpffs) so it outlives the
 * process, and opening it again from that path.
 *
 * @module
 */

import { mkdirSync, statfsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { BpfCmd, bpfAttr, Errno } from "../../uapi/index.ts";
import { BpfCall, Fd, mountFs, SyscallError } from "../sys/index.ts";

/** `f_type` of a bpf filesystem (BPF_FS_MAGIC). */
export const BPF_FS_MAGIC = 0xcafe4a11;

/** Where bpffs is conventionally mounted. */
export const DEFAULT_BPFFS = "/sys/fs/bpf";

/** True if `path` exists and lies on a bpf filesystem. */
export function isOnBpffs(path: string): boolean {
  try {
    return statfsSync(path).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Where `path` stands with respect to bpffs: the nearest existing directory at or
 * above it, and whether that directory is on a bpf filesystem.
 */
export function bpffsStatus(path: string): { existing: string; onBpffs: boolean } {
  let p = resolve(path);
  for (;;) {
    try {
      const type = statfsSync(p).type;
      return { existing: p, onBpffs: type === BPF_FS_MAGIC };
    } catch {
      const up = dirname(p);
      if (up === p) return { existing: p, onBpffs: false };
      p = up;
    }
  }
}

/** A sentence on why `path` could not be used, for error messages. */
export function explainPinPath(path: string): string {
  const { existing, onBpffs } = bpffsStatus(path);
  const abs = resolve(path);
  if (!onBpffs) {
    return `${existing} is not on a bpf filesystem: pins live on bpffs (mount one with \`mount -t bpf bpf ${DEFAULT_BPFFS}\`)`;
  }
  if (existing === abs) return `${abs} exists on bpffs`;
  if (existing === dirname(abs)) return `${existing} is on bpffs, but nothing is pinned at ${abs}`;
  return `${existing} is on bpffs, but ${dirname(abs)} does not exist`;
}

/**
 * Pins the object behind `fd` at `path` (on bpffs; the directory must exist).
 *
 * @throws SyscallError naming the path, with why it failed when the kernel says ENOENT,
 * EEXIST or EPERM.
 */
export function pinObject(fd: number, path: string): void {
  const call = new BpfCall(BpfCmd.OBJ_PIN, bpfAttr.objPin);
  call.string("pathname", path).u32("bpf_fd", fd);
  try {
    call.invoke(`pin fd ${fd} at ${path}`);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    const detail =
      e.code === "EEXIST" ? `something is already pinned at ${path}` : explainPinPath(path);
    throw new SyscallError(e.errno, `pin fd ${fd} at ${path}`, detail);
  }
}

/**
 * Opens the object pinned at `path`. `flags`: BPF_F_RDONLY / BPF_F_WRONLY
 * (`FileFlags`) for maps, 0 otherwise.
 *
 * @throws SyscallError naming the path and, when nothing is there, whether the path is
 * on bpffs at all.
 */
export function openPinned(path: string, flags = 0): Fd {
  const call = new BpfCall(BpfCmd.OBJ_GET, bpfAttr.objPin);
  call.string("pathname", path).u32("file_flags", flags);
  try {
    return new Fd(call.invoke(`open pinned object ${path}`));
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    const detail =
      e.errno === Errno.ENOENT || e.code === "EPERM" ? explainPinPath(path) : undefined;
    throw new SyscallError(e.errno, `open pinned object ${path}`, detail);
  }
}

/**
 * Makes sure a bpf filesystem is mounted at `dir` (default /sys/fs/bpf): does nothing
 * if one is, mounts one if not (needs root / CAP_SYS_ADMIN).
 *
 * @throws Error saying what is missing when it cannot mount.
 */
export function ensureBpffs(dir: string = DEFAULT_BPFFS): void {
  if (isOnBpffs(dir)) return;
  mkdirSync(dir, { recursive: true });
  const e = mountFs("bpf", dir, "bpf");
  if (e !== 0) throw new SyscallError(e, `mount bpffs at ${dir}`, "mounting needs root");
}

/**
 * Opens the object pinned at `path` as a `what` ("BPF map", "BPF program"...) with
 * that class's `fromFd`; closes the descriptor and says what is pinned there when it is
 * something else.
 */
export function adoptPinned<T>(path: string, what: string, fromFd: (fd: Fd) => T, flags = 0): T {
  const fd = openPinned(path, flags);
  try {
    return fromFd(fd);
  } catch (e) {
    fd.close();
    throw new Error(`${path} is pinned but is not a ${what}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
