/**
 * `tsbpf trace mountsnoop`: mount(2) and umount2(2) calls, as BCC's mountsnoop prints
 * them (`COMM PID TID MNT_NS CALL`, the call written out as
 * `mount("src", "dir", "type", MS_BIND, "") = 0`), on their syscall tracepoints.
 *
 * @module
 */

import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { left, resultText } from "./event-text.ts";
import { intOption, runSnoopTool, type SnoopTool } from "./snoop-tool.ts";
import { MOUNTSNOOP_OPTIONS } from "./tool-tables.ts";
import { COMM_LEN, cString, viewOf } from "./trace-events.ts";

/** One mount or umount call. */
export interface MountEvent {
  readonly ts: bigint;
  readonly op: "mount" | "umount";
  readonly pid: number;
  readonly tid: number;
  /** The caller's mount namespace (its inode number, as /proc/PID/ns/mnt shows). */
  readonly mntNs: number;
  readonly comm: string;
  /** The call's return value: 0, or -errno. */
  readonly ret: number;
  /** MS_* flags of mount, MNT_* flags of umount. */
  readonly flags: bigint;
  /** mount's source (empty for umount). */
  readonly source: string;
  /** The mount point. */
  readonly target: string;
  /** mount's file system type. */
  readonly fstype: string;
  /** mount's data, read as a string. */
  readonly data: string;
}

/** `tsbpf trace mountsnoop` options. */
export interface MountOptions {
  readonly pid: number;
}

/** `struct mount_event` (mountsnoop.bpf.c). */
const REC = {
  ts: 0,
  flags: 8,
  pid: 16,
  tid: 20,
  mntNs: 24,
  ret: 28,
  op: 32,
  comm: 36,
  fstype: 52,
  source: 84,
  target: 340,
  data: 596,
  size: 856,
} as const;
const FSTYPE_LEN = 32;
const STR_LEN = 256;

/**
 * Decodes a `struct mount_event` record.
 * @throws RangeError when the record is short
 */
export function decodeMountEvent(bytes: Uint8Array): MountEvent {
  const v = viewOf(bytes, REC.size, "mount event");
  return {
    ts: v.getBigUint64(REC.ts, true),
    op: v.getUint32(REC.op, true) === 1 ? "umount" : "mount",
    pid: v.getUint32(REC.pid, true),
    tid: v.getUint32(REC.tid, true),
    mntNs: v.getUint32(REC.mntNs, true),
    comm: cString(bytes, REC.comm, COMM_LEN),
    ret: v.getInt32(REC.ret, true),
    flags: v.getBigUint64(REC.flags, true),
    source: cString(bytes, REC.source, STR_LEN),
    target: cString(bytes, REC.target, STR_LEN),
    fstype: cString(bytes, REC.fstype, FSTYPE_LEN),
    data: cString(bytes, REC.data, STR_LEN),
  };
}

/** mount(2)'s MS_* flags (linux/mount.h), lowest bit first. */
const MS_FLAGS: readonly (readonly [number, string])[] = [
  [1, "MS_RDONLY"],
  [2, "MS_NOSUID"],
  [4, "MS_NODEV"],
  [8, "MS_NOEXEC"],
  [16, "MS_SYNCHRONOUS"],
  [32, "MS_REMOUNT"],
  [64, "MS_MANDLOCK"],
  [128, "MS_DIRSYNC"],
  [256, "MS_NOSYMFOLLOW"],
  [1024, "MS_NOATIME"],
  [2048, "MS_NODIRATIME"],
  [4096, "MS_BIND"],
  [8192, "MS_MOVE"],
  [16384, "MS_REC"],
  [32768, "MS_SILENT"],
  [1 << 16, "MS_POSIXACL"],
  [1 << 17, "MS_UNBINDABLE"],
  [1 << 18, "MS_PRIVATE"],
  [1 << 19, "MS_SLAVE"],
  [1 << 20, "MS_SHARED"],
  [1 << 21, "MS_RELATIME"],
  [1 << 22, "MS_KERNMOUNT"],
  [1 << 23, "MS_I_VERSION"],
  [1 << 24, "MS_STRICTATIME"],
  [1 << 25, "MS_LAZYTIME"],
];

/** umount2(2)'s flags. */
const UMOUNT_FLAGS: readonly (readonly [number, string])[] = [
  [1, "MNT_FORCE"],
  [2, "MNT_DETACH"],
  [4, "MNT_EXPIRE"],
  [8, "UMOUNT_NOFOLLOW"],
];

/** The old magic mount(2) still accepts in the flags' upper 16 bits. */
const MS_MGC_VAL = 0xc0ed0000n;
const MS_MGC_MSK = 0xffff0000n;

/** Flags as `A|B|0x...`, `0x0` when none, as mountsnoop prints them. */
export function flagsText(flags: bigint, table: readonly (readonly [number, string])[]): string {
  const names: string[] = [];
  let rest = flags;
  if (table === MS_FLAGS && (rest & MS_MGC_MSK) === MS_MGC_VAL) {
    names.push("MS_MGC_VAL");
    rest &= ~MS_MGC_MSK;
  }
  for (const [bit, name] of table) {
    if (rest & BigInt(bit)) {
      names.push(name);
      rest &= ~BigInt(bit);
    }
  }
  if (rest !== 0n || names.length === 0) names.push(`0x${rest.toString(16)}`);
  return names.join("|");
}

const quoted = (s: string) => JSON.stringify(s);

/** The CALL column: the call as it was made, and its result. */
export function mountCallText(e: MountEvent): string {
  const call =
    e.op === "mount"
      ? `mount(${quoted(e.source)}, ${quoted(e.target)}, ${quoted(e.fstype)}, ${flagsText(e.flags, MS_FLAGS)}, ${quoted(e.data)})`
      : `umount(${quoted(e.target)}, ${flagsText(e.flags, UMOUNT_FLAGS)})`;
  return `${call} = ${resultText(e.ret)}`;
}

/** mountsnoop's header: `%-16s %-7s %-7s %-11s %s`. */
export const MOUNT_HEADER = `${left("COMM", 16)} ${left("PID", 7)} ${left("TID", 7)} ${left("MNT_NS", 11)} CALL\n`;

/** A mountsnoop row: `%-16s %-7d %-7d %-11d %s`. */
export function formatMountRow(e: MountEvent): string {
  return `${left(e.comm, 16)} ${left(e.pid, 7)} ${left(e.tid, 7)} ${left(e.mntNs, 11)} ${mountCallText(e)}\n`;
}

/** The mountsnoop tool. */
export const MOUNTSNOOP: SnoopTool<MountEvent, MountOptions> = {
  name: "mountsnoop",
  options: MOUNTSNOOP_OPTIONS,
  parse: (v) => ({ pid: typeof v.pid === "string" ? intOption(v.pid, "--pid") : 0 }),
  what: "mount() and umount() calls",
  object: "mountsnoop.bpf.o",
  attachments: [
    { program: "enter_mount", group: "syscalls", event: "sys_enter_mount" },
    { program: "exit_mount", group: "syscalls", event: "sys_exit_mount" },
    { program: "enter_umount", group: "syscalls", event: "sys_enter_umount" },
    { program: "exit_mount", group: "syscalls", event: "sys_exit_umount" },
  ],
  constants: (o) => ({ targ_tgid: o.pid }),
  header: () => MOUNT_HEADER,
  decode: decodeMountEvent,
  row: (e) => formatMountRow(e),
  json: (e) => ({
    pid: e.pid,
    tid: e.tid,
    comm: e.comm,
    mnt_ns: e.mntNs,
    call: e.op,
    ...(e.op === "mount" && { source: e.source, fstype: e.fstype, data: e.data }),
    target: e.target,
    flags: e.flags,
    ret: e.ret,
    ts: e.ts,
  }),
};

/** Runs `tsbpf trace mountsnoop ...`. */
export function traceMountsnoop(ctx: Context, args: Args): Promise<void> {
  return runSnoopTool(ctx, args, MOUNTSNOOP);
}
