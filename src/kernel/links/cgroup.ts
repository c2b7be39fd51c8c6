/**
 * cgroup programs (skb, sock, sock_addr, sockopt, sysctl, device...) on a cgroup v2
 * directory, two ways: a bpf_link (BPF_LINK_CREATE with the directory's fd; detached
 * when its last descriptor closes, always beside other programs) or BPF_PROG_ATTACH
 * (the attachment belongs to the cgroup and stays until detached; exclusive,
 * override or multi mode, as `bpftool cgroup attach` does). {@link queryCgroup} reads
 * what is attached.
 *
 * @module
 */

import { closeSync, openSync, readlinkSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  AttachFlags,
  AttachType,
  attachTypeName,
  Errno,
  ProgType,
  progTypeName,
} from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { dupFd, type Fd, SyscallError } from "../sys/index.ts";
import { type Link, newLink } from "./link.ts";
import { linkCreate } from "./link-create.ts";
import {
  type AttachMode,
  attachModeFlags,
  progAttach,
  progDetach,
  progQuery,
} from "./prog-attach.ts";

/**
 * The attach types a cgroup takes, in the kernel's numbering, with the program type
 * each needs (the kernel's attach_type_to_prog_type).
 */
export const CGROUP_ATTACH_TYPES: ReadonlyMap<number, number> = new Map<number, number>(
  (
    [
      [AttachType.CGROUP_INET_INGRESS, ProgType.CGROUP_SKB],
      [AttachType.CGROUP_INET_EGRESS, ProgType.CGROUP_SKB],
      [AttachType.CGROUP_INET_SOCK_CREATE, ProgType.CGROUP_SOCK],
      [AttachType.CGROUP_SOCK_OPS, ProgType.SOCK_OPS],
      [AttachType.CGROUP_DEVICE, ProgType.CGROUP_DEVICE],
      [AttachType.CGROUP_INET4_BIND, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_INET6_BIND, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_INET4_CONNECT, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_INET6_CONNECT, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_INET4_POST_BIND, ProgType.CGROUP_SOCK],
      [AttachType.CGROUP_INET6_POST_BIND, ProgType.CGROUP_SOCK],
      [AttachType.CGROUP_UDP4_SENDMSG, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_UDP6_SENDMSG, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_SYSCTL, ProgType.CGROUP_SYSCTL],
      [AttachType.CGROUP_UDP4_RECVMSG, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_UDP6_RECVMSG, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_GETSOCKOPT, ProgType.CGROUP_SOCKOPT],
      [AttachType.CGROUP_SETSOCKOPT, ProgType.CGROUP_SOCKOPT],
      [AttachType.CGROUP_INET4_GETPEERNAME, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_INET6_GETPEERNAME, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_INET4_GETSOCKNAME, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_INET6_GETSOCKNAME, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_INET_SOCK_RELEASE, ProgType.CGROUP_SOCK],
      [AttachType.LSM_CGROUP, ProgType.LSM],
      [AttachType.CGROUP_UNIX_CONNECT, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_UNIX_SENDMSG, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_UNIX_RECVMSG, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_UNIX_GETPEERNAME, ProgType.CGROUP_SOCK_ADDR],
      [AttachType.CGROUP_UNIX_GETSOCKNAME, ProgType.CGROUP_SOCK_ADDR],
    ] as [number, number][]
  ).sort((a, b) => a[0] - b[0]),
);

/** Program types the kernel holds to the attach type they were loaded for. */
const LOADED_FOR_ONE_TYPE: ReadonlySet<number> = new Set([
  ProgType.CGROUP_SOCK,
  ProgType.CGROUP_SOCK_ADDR,
  ProgType.CGROUP_SOCKOPT,
  ProgType.LSM,
]);

/** Options of {@link attachCgroup}. */
export interface CgroupAttachOptions {
  /**
   * `link` (the default) makes a bpf_link: it runs beside the other programs there and
   * is detached when its last descriptor closes (when the process exits too).
   * `attach` uses BPF_PROG_ATTACH, as `bpftool cgroup attach` does: the program stays
   * on the cgroup until detached (close() detaches it). `mode` or `replace` imply it.
   */
  readonly via?: "link" | "attach";
  /**
   * BPF_PROG_ATTACH only: `exclusive` (the default: one program, and no program may
   * attach in the cgroups below), `override` (one program, which a program attached
   * below replaces there) or `multi` (several programs, in attach order, and more
   * below). A cgroup holds programs of one mode per attach type.
   */
  readonly mode?: AttachMode;
  /** BPF_PROG_ATTACH in multi mode: swap this attached program for the new one atomically. */
  readonly replace?: Program;
}

/** A cgroup opened for one operation, and how messages name it. */
interface OpenCgroup {
  readonly fd: number;
  readonly what: string;
  /** The directory's path, when known (to walk up its parents when explaining EPERM). */
  path(): string | undefined;
  close(): void;
}

function openCgroup(cgroup: string | number): OpenCgroup {
  if (typeof cgroup === "number") {
    return { fd: cgroup, what: `cgroup fd ${cgroup}`, path: () => fdPath(cgroup), close: () => {} };
  }
  let fd: number;
  try {
    fd = openSync(cgroup, "r");
  } catch (e) {
    throw new Error(`cannot open cgroup ${cgroup}: ${(e as Error).message}`, { cause: e });
  }
  return { fd, what: `cgroup ${cgroup}`, path: () => cgroup, close: () => closeSync(fd) };
}

function fdPath(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

const typeLabel = (t: number) => attachTypeName(t) ?? `attach type ${t}`;

/**
 * Attaches `prog` to the cgroup at `cgroup` (a cgroup2 directory path, or an open fd,
 * which stays the caller's) for `attachType` (`AttachType.CGROUP_INET_INGRESS`, ...):
 * a bpf_link by default, or with BPF_PROG_ATTACH in a mode (see
 * {@link CgroupAttachOptions}). Closing the returned link detaches the program; an
 * attachment made with BPF_PROG_ATTACH is detached only while it is still this
 * program's (someone may have detached or replaced it meanwhile).
 *
 * @throws Error when the directory cannot be opened; TypeError for options that do not
 * go together; SyscallError from the kernel, with the cause in words where it is clear
 * (EPERM: an exclusive program in a parent cgroup, or programs of another mode here;
 * EINVAL: a program of the wrong type, or one already attached here).
 * @example
 * ```ts
 * using link = attachCgroup(prog, "/sys/fs/cgroup/unified", AttachType.CGROUP_INET_EGRESS);
 * using kept = attachCgroup(prog, "/sys/fs/cgroup/unified/app", AttachType.CGROUP_INET_EGRESS, {
 *   via: "attach",
 *   mode: "multi",
 * });
 * ```
 */
export function attachCgroup(
  prog: Program,
  cgroup: string | number,
  attachType: number,
  opts: CgroupAttachOptions = {},
): Link {
  const via = opts.via ?? (opts.mode !== undefined || opts.replace ? "attach" : "link");
  const cg = openCgroup(cgroup);
  const what = `${cg.what} (${typeLabel(attachType)})`;
  try {
    if (via === "link") {
      if ((opts.mode !== undefined && opts.mode !== "multi") || opts.replace) {
        throw new TypeError(
          `attach ${prog} to ${what}: a cgroup link always runs beside others (multi mode); ${opts.replace ? "replace" : `mode ${opts.mode}`} needs via: "attach"`,
        );
      }
      try {
        return newLink({ fd: linkCreate(prog, cg.fd, attachType, what), description: what });
      } catch (e) {
        throw explained(e, prog, cg, attachType, "multi", undefined);
      }
    }
    const mode = opts.mode ?? "exclusive";
    // The link keeps its own descriptors of the program and the cgroup (detaching names
    // them, whatever the caller closes meanwhile), made first: nothing to undo after.
    const progId = prog.id;
    const ownProg = dupFd(prog.fd, `${prog}`);
    let ownCgroup: Fd | undefined;
    try {
      ownCgroup = dupFd(cg.fd, cg.what);
      cgroupProgAttach(prog, cg, attachType, mode, opts.replace);
    } catch (e) {
      ownProg.close();
      ownCgroup?.close();
      throw e;
    }
    const description = `${cg.what} (${typeLabel(attachType)}, ${mode})`;
    const own = { prog: ownProg, progId, label: `${prog}`, cgroup: ownCgroup };
    return attachedLink(own, cg.what, attachType, mode, description);
  } finally {
    cg.close();
  }
}

/** The Link of a BPF_PROG_ATTACH attachment: its cleanup detaches this program. */
function attachedLink(
  own: { prog: Fd; progId: number; label: string; cgroup: Fd },
  cgroupWhat: string,
  attachType: number,
  mode: AttachMode,
  description: string,
): Link {
  const ownProg = { fd: own.prog.value, toString: () => own.label };
  return newLink({
    description,
    noLinkReason:
      'it was attached with BPF_PROG_ATTACH, which makes no bpf_link; attach with via: "link" for one',
    cleanup: () => {
      try {
        // One program per cgroup in exclusive and override mode: BPF_PROG_DETACH there
        // takes off whichever program is attached, so look first.
        if (mode !== "multi") {
          const q = progQuery(own.cgroup.value, attachType, cgroupWhat);
          if (!q.progIds.includes(own.progId)) return;
        }
        progDetach(ownProg, own.cgroup.value, attachType, cgroupWhat);
      } catch (e) {
        // Detached by someone else, or the cgroup is gone: nothing of ours is left.
        const code = (e as { code?: string }).code;
        if (code !== "ENOENT" && code !== "EBADF" && code !== "ENODEV") throw e;
      } finally {
        own.prog.close();
        own.cgroup.close();
      }
    },
  });
}

function cgroupProgAttach(
  prog: Program,
  cg: OpenCgroup,
  attachType: number,
  mode: AttachMode,
  replace: Program | undefined,
): void {
  if (replace && mode !== "multi") {
    throw new TypeError(
      `attach ${prog} to ${cg.what} (${typeLabel(attachType)}): replace works in multi mode only (mode ${mode} given)`,
    );
  }
  try {
    progAttach(prog, cg.fd, attachType, cg.what, { mode, ...(replace && { replace }) });
  } catch (e) {
    throw explained(e, prog, cg, attachType, mode, replace);
  }
}

/**
 * Attaches `prog` with BPF_PROG_ATTACH and leaves it there (no Link: it stays until
 * {@link detachCgroup}), as `bpftool cgroup attach` does.
 * @throws as {@link attachCgroup}.
 */
export function attachCgroupPersistent(
  prog: Program,
  cgroup: string | number,
  attachType: number,
  opts: { readonly mode?: AttachMode; readonly replace?: Program } = {},
): void {
  const cg = openCgroup(cgroup);
  try {
    cgroupProgAttach(prog, cg, attachType, opts.mode ?? "exclusive", opts.replace);
  } finally {
    cg.close();
  }
}

/**
 * Detaches `prog` (attached with BPF_PROG_ATTACH, by this process or another) from
 * the cgroup's `attachType`. In exclusive and override mode the kernel takes off the
 * program there whichever it is; this checks first that it is `prog`.
 * @throws SyscallError ENOENT when `prog` is not attached there.
 */
export function detachCgroup(prog: Program, cgroup: string | number, attachType: number): void {
  const cg = openCgroup(cgroup);
  try {
    const q = progQuery(cg.fd, attachType, cg.what);
    const single = q.progIds.length > 0 && (q.attachFlags & AttachFlags.ALLOW_MULTI) === 0;
    if (single && !q.progIds.includes(prog.id)) {
      throw new SyscallError(
        Errno.ENOENT,
        `detach ${prog} from ${cg.what} (${typeLabel(attachType)})`,
        `program ${q.progIds[0]} is attached there, not this one`,
      );
    }
    try {
      progDetach(prog, cg.fd, attachType, cg.what);
    } catch (e) {
      if (e instanceof SyscallError && e.code === "ENOENT") {
        throw new SyscallError(e.errno, e.operation, "it is not attached there");
      }
      throw e;
    }
  } finally {
    cg.close();
  }
}

/** One program {@link queryCgroup} found. */
export interface CgroupProgram {
  /** The program's kernel id. */
  readonly id: number;
  /**
   * Its attach mode (AttachFlags bits: ALLOW_MULTI, ALLOW_OVERRIDE; 0 is exclusive):
   * per program where the kernel says (Linux 6.3), else the cgroup's for the type.
   * Undefined in an effective query.
   */
  readonly attachFlags: number | undefined;
}

/** What {@link queryCgroup} returns. */
export interface CgroupQuery {
  /** The cgroup's attach flags for the type (0 in an effective query). */
  readonly attachFlags: number;
  /** The programs, in the order they run. */
  readonly programs: CgroupProgram[];
}

/**
 * The programs attached to the cgroup at `cgroup` (path or fd) for `attachType`; with
 * `effective`, those that run there, inherited from its parents included.
 * @throws SyscallError: EINVAL when the kernel does not know the attach type, EBADF
 * when the directory is not a cgroup v2 one.
 */
export function queryCgroup(
  cgroup: string | number,
  attachType: number,
  opts: { effective?: boolean } = {},
): CgroupQuery {
  const cg = openCgroup(cgroup);
  try {
    const q = progQuery(cg.fd, attachType, cg.what, opts);
    return {
      attachFlags: q.attachFlags,
      programs: q.progIds.map((id, i) => ({
        id,
        attachFlags: opts.effective ? undefined : q.progAttachFlags[i] || q.attachFlags,
      })),
    };
  } finally {
    cg.close();
  }
}

/** The mode AttachFlags bits name. */
function modeOf(flags: number): string {
  if (flags & AttachFlags.ALLOW_MULTI) return "multi";
  if (flags & AttachFlags.ALLOW_OVERRIDE) return "override";
  return "exclusive";
}

/**
 * The kernel's refusal, with its cause in words where the cgroup can tell it (asked
 * after the fact: a best guess when programs come and go meanwhile).
 */
function explained(
  e: unknown,
  prog: Program,
  cg: OpenCgroup,
  attachType: number,
  mode: AttachMode,
  replace: Program | undefined,
): unknown {
  if (!(e instanceof SyscallError)) return e;
  let detail: string | undefined;
  try {
    detail = cgroupAttachProblem(e.code, prog, cg, attachType, mode, replace);
  } catch {
    detail = undefined;
  }
  return detail ? new SyscallError(e.errno, e.operation, detail) : e;
}

function cgroupAttachProblem(
  code: string,
  prog: Program,
  cg: OpenCgroup,
  attachType: number,
  mode: AttachMode,
  replace: Program | undefined,
): string | undefined {
  const type = typeLabel(attachType);
  if (code === "EBADF") return `${cg.path() ?? cg.what} is not a cgroup v2 directory`;
  if (code === "E2BIG") return `the cgroup holds as many ${type} programs as the kernel allows`;
  if (code === "EINVAL") {
    const want = CGROUP_ATTACH_TYPES.get(attachType);
    if (want === undefined)
      return `${type} is not a cgroup attach type (or this kernel does not know it)`;
    if (prog.type !== want) {
      return `a ${progTypeName(prog.type) ?? `type ${prog.type}`} program cannot attach to ${type}: that needs a ${progTypeName(want)} program`;
    }
  }
  const here = progQuery(cg.fd, attachType, cg.what);
  if ((code === "EINVAL" || code === "EEXIST") && mode === "multi") {
    if (here.progIds.includes(prog.id)) return "this program is already attached there";
  }
  if (code === "ENOENT" && replace) return `${replace} (the one to replace) is not attached there`;
  if (code === "EINVAL" && LOADED_FOR_ONE_TYPE.has(prog.type)) {
    const loadedFor = prog.spec?.expectedAttachType;
    if (loadedFor === undefined || loadedFor !== attachType) {
      const was = loadedFor === undefined ? "" : `, ${typeLabel(loadedFor)}`;
      return `a ${progTypeName(prog.type)} program attaches only to the attach type it was loaded for${was}`;
    }
  }
  if (code !== "EPERM") return undefined;
  const wanted = attachModeFlags(mode);
  if (here.progIds.length > 0 && here.attachFlags !== wanted) {
    return `program ${here.progIds.join(", ")} is attached there in ${modeOf(here.attachFlags)} mode, and a cgroup holds programs of one mode per attach type`;
  }
  // A parent forbids it: the nearest parent with programs decides (multi or override
  // allow programs below, exclusive does not).
  const path = cg.path();
  if (!path) return undefined;
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    let q: ReturnType<typeof progQuery>;
    try {
      q = withFd(dir, (fd) => progQuery(fd, attachType, `cgroup ${dir}`));
    } catch {
      return undefined; // above the cgroup2 mount
    }
    if (q.attachFlags & AttachFlags.ALLOW_MULTI) return undefined;
    if (q.progIds.length > 0) {
      return q.attachFlags & AttachFlags.ALLOW_OVERRIDE
        ? undefined
        : `parent cgroup ${dir} has program ${q.progIds[0]} attached in exclusive mode, which allows no ${type} program below it`;
    }
    if (dir === dirname(dir)) return undefined;
  }
}

function withFd<T>(path: string, use: (fd: number) => T): T {
  const fd = openSync(path, "r");
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}
