/**
 * Pinning from the CLI (bpftool's do_pin_fd): the path's directory must be on bpffs.
 * bpftool mounts a bpffs over any directory that is not; tsbpf does so only when the
 * directory is empty (nothing gets hidden) and otherwise says what to do.
 */
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { ensureBpffs, isOnBpffs, pinObject } from "../../kernel/objects/pin.ts";
import { Errno } from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import { CliError, exitForErrno } from "../format/output.ts";
import { errnoOf, reason } from "./selectors.ts";

/** Pins `fd` at `path`, mounting bpffs on an empty parent directory if needed. */
export function pinAt(fd: number, path: string): void {
  const dir = dirname(path);
  if (!isOnBpffs(dir)) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch (e) {
      throw new CliError(
        `can't mount BPF file system to pin the object (${path}): ${dir}: ${reason(e)}`,
      );
    }
    if (entries.length > 0) {
      throw new CliError(
        `can't pin the object (${path}): ${dir} is not on a BPF file system and is not empty ` +
          `(mount one with \`mount -t bpf bpf DIR\`, or pin under /sys/fs/bpf)`,
      );
    }
    try {
      ensureBpffs(dir);
    } catch (e) {
      throw new CliError(`can't mount BPF file system to pin the object (${path}): ${reason(e)}`);
    }
  }
  try {
    pinObject(fd, path);
  } catch (e) {
    throw new CliError(`can't pin the object (${path}): ${reason(e)}`, exitForErrno(errnoOf(e)));
  }
}

/** bpftool's do_pin_any argument check, which fails with -EINVAL (exit code 234). */
export function requirePinArgs(args: Args): void {
  try {
    args.require(3);
  } catch (e) {
    throw new CliError((e as Error).message, exitForErrno(Errno.EINVAL));
  }
}
