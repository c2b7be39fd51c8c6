/**
 * `tsbpf cgroup show CGROUP [effective]` and `tsbpf cgroup tree [CGROUP_ROOT]
 * [effective]`: the programs attached to one cgroup, or to every cgroup below a root
 * (walked as glibc's nftw walks it, in directory order, without leaving the root's
 * file system), as bpftool 7.1 prints them.
 *
 * Every cgroup attach type is asked for, in the kernel's numbering; a type this kernel
 * does not know answers EINVAL and is left out, as bpftool leaves it out. bpftool 7.1
 * stops at the types its headers know (up to lsm_cgroup), so it does not see the
 * cgroup_unix_* programs of Linux 6.7; tsbpf shows them.
 */
import { closeSync, type Dir, opendirSync, openSync, readFileSync, statSync } from "node:fs";
import { btfInfoById } from "../../kernel/btf/btf-info.ts";
import { vmlinuxBTF } from "../../kernel/btf/kernel-btf.ts";
import { CGROUP_ATTACH_TYPES, queryCgroup } from "../../kernel/links/cgroup.ts";
import { objectFdById } from "../../kernel/objects/objects.ts";
import { type ProgramInfo, programInfoByFd } from "../../kernel/programs/prog-info.ts";
import { AttachFlags } from "../../uapi/index.ts";
import { type Args, isPrefix } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { reason } from "../objects/selectors.ts";
import { progFullName } from "../prog/prog-btf.ts";
import {
  type CgroupProgView,
  cgroupHeaderPlain,
  cgroupProgJson,
  cgroupProgPlain,
} from "./format-cgroup.ts";

/** A cgroup's programs, attach type by attach type. */
interface Found {
  readonly attachType: number;
  readonly progs: readonly { id: number; attachFlags: number | undefined }[];
}

/**
 * The programs on the cgroup open at `fd`, or undefined when it has none. A failure
 * other than EINVAL (an attach type the kernel does not know) before any program is
 * found is the cgroup's failure (EBADF: not a cgroup v2 directory), as in bpftool.
 */
function programsOf(fd: number, path: string, effective: boolean): Found[] | undefined {
  const found: Found[] = [];
  for (const attachType of CGROUP_ATTACH_TYPES.keys()) {
    try {
      const q = queryCgroup(fd, attachType, { effective });
      if (q.programs.length > 0) found.push({ attachType, progs: q.programs });
    } catch (e) {
      if ((e as { code?: string }).code === "EINVAL" || found.length > 0) continue;
      throw new CliError(`can't query bpf programs attached to ${path}: ${reason(e)}`);
    }
  }
  return found.length > 0 ? found : undefined;
}

/** bpftool's attach flags column. */
function flagsText(flags: number): string {
  switch (flags) {
    case AttachFlags.ALLOW_MULTI:
      return "multi";
    case AttachFlags.ALLOW_OVERRIDE:
      return "override";
    case 0:
      return "";
    default:
      return `unknown(${flags.toString(16)})`;
  }
}

/**
 * The vmlinux BTF names bpftool 7.1 prints beside programs. It takes the BTF object of
 * the first program with an attach BTF object as vmlinux's id (when it is vmlinux), and
 * until then compares with 0: so a program without attach BTF gets the name of type 0,
 * "", as long as no program before it named vmlinux's BTF. Kept for identical output.
 */
class AttachBtfNames {
  readonly #available: boolean;
  #vmlinuxId = 0;

  constructor() {
    try {
      this.#available = statSync("/sys/kernel/btf/vmlinux").isFile();
    } catch {
      this.#available = false;
    }
  }

  name(info: ProgramInfo): string | undefined {
    if (!this.#available) return undefined;
    if (this.#vmlinuxId === 0 && info.attachBtfObjId !== 0) {
      try {
        const btf = btfInfoById(info.attachBtfObjId);
        if (btf?.kernelBtf && btf.name === "vmlinux") this.#vmlinuxId = btf.id;
      } catch {
        // not readable: no guess
      }
    }
    if (this.#vmlinuxId !== info.attachBtfObjId) return undefined;
    if (info.attachBtfId === 0) return "";
    try {
      const btf = vmlinuxBTF();
      return info.attachBtfId < btf.count ? (btf.type(info.attachBtfId).name ?? "") : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Prints one cgroup's programs (a program gone since the query is left out). */
function printPrograms(
  ctx: Context,
  found: readonly Found[],
  btfNames: AttachBtfNames,
  nested: boolean,
): void {
  for (const { attachType, progs } of found) {
    for (const p of progs) {
      const fd = objectFdById("prog", p.id);
      if (!fd) continue;
      let info: ProgramInfo;
      try {
        info = programInfoByFd(fd.value);
      } catch {
        continue;
      } finally {
        fd.close();
      }
      const view: CgroupProgView = {
        id: info.id,
        attachType,
        attachFlags: p.attachFlags === undefined ? undefined : flagsText(p.attachFlags),
        name: progFullName(info),
        attachBtfName: btfNames.name(info),
        attachBtfObjId: info.attachBtfObjId,
        attachBtfId: info.attachBtfId,
      };
      if (ctx.out.json) cgroupProgJson(ctx.out.w, view);
      else ctx.out.write(cgroupProgPlain(view, nested));
    }
  }
}

/** bpftool's `[effective]` after the cgroup: the one optional keyword, at most once. */
function effectiveArg(args: Args): boolean {
  let effective = false;
  while (args.count > 0) {
    const w = args.next();
    if (!isPrefix(w, "effective")) {
      throw new CliError(`expected no more arguments, 'effective', got: '${w}'?`);
    }
    if (effective) throw new CliError(`duplicated argument: ${w}`);
    effective = true;
  }
  return effective;
}

function openDir(path: string): number | undefined {
  try {
    return openSync(path, "r");
  } catch {
    return undefined;
  }
}

/** `cgroup show|list CGROUP [effective]`. */
export async function showCgroup(ctx: Context, args: Args): Promise<void> {
  args.require(1);
  const path = args.next();
  const effective = effectiveArg(args);
  const fd = openDir(path);
  if (fd === undefined) throw new CliError(`can't open cgroup ${path}`);
  try {
    const found = programsOf(fd, path, effective);
    if (!found) return;
    if (ctx.out.json) ctx.out.w.startArray();
    else ctx.out.write(cgroupHeaderPlain(effective));
    printPrograms(ctx, found, new AttachBtfNames(), false);
    if (ctx.out.json) ctx.out.w.endArray();
  } finally {
    closeSync(fd);
  }
}

/** Where cgroup2 is mounted: the first cgroup2 line of /proc/mounts. */
function cgroup2Mount(): string | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/mounts", "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    // getmntent undoes the octal escapes of spaces, tabs, newlines and backslashes
    if (f[2] === "cgroup2" && f[1]) {
      return f[1].replace(/\\([0-7]{3})/g, (_, o: string) =>
        String.fromCharCode(Number.parseInt(o, 8)),
      );
    }
  }
  return undefined;
}

/** `cgroup tree [CGROUP_ROOT] [effective]`. */
export async function showTree(ctx: Context, args: Args): Promise<void> {
  let root: string;
  let effective = false;
  if (args.count === 0) {
    const mount = cgroup2Mount();
    if (mount === undefined) throw new CliError("cgroup v2 isn't mounted");
    root = mount;
  } else {
    root = args.next();
    effective = effectiveArg(args);
  }
  if (ctx.out.json) ctx.out.w.startArray();
  else ctx.out.write(`CgroupPath\n${cgroupHeaderPlain(effective)}`);
  const btfNames = new AttachBtfNames();
  const visit = (path: string, level: number): void => {
    const fd = openDir(path);
    if (fd === undefined) {
      let why = "";
      try {
        closeSync(openSync(path, "r"));
      } catch (e) {
        why = reason(e);
      }
      throw new CliError(`can't open cgroup ${path}: ${why}`);
    }
    try {
      const found = programsOf(fd, path, effective);
      if (!found) return;
      if (ctx.out.json) {
        ctx.out.w.startObject().field("cgroup", path).name("programs").startArray();
      } else {
        ctx.out.write(`${path}\n`);
      }
      printPrograms(ctx, found, btfNames, level > 0);
      if (ctx.out.json) ctx.out.w.endArray().endObject();
    } finally {
      closeSync(fd);
    }
  };
  walkTree(root, visit);
  if (ctx.out.json) ctx.out.w.endArray();
}

/**
 * glibc's nftw(root, fn, ..., FTW_MOUNT) for the directories: `visit` runs on each
 * directory before those below it, in the order the kernel lists them; symbolic links
 * are followed, a directory is seen once, other file systems are not entered. The root
 * loses its trailing slashes. A failure of the walk itself is bpftool's "can't iterate".
 */
function walkTree(root: string, visit: (path: string, level: number) => void): void {
  let start = root;
  while (start.length > 1 && start.endsWith("/")) start = start.slice(0, -1);
  const fail = (e: unknown) => new CliError(`can't iterate over ${root}: ${reason(e)}`);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(start);
  } catch (e) {
    throw fail(e);
  }
  if (!st.isDirectory()) return;
  const rootDev = st.dev;
  const seen = new Set<string>();
  const walk = (dir: string, level: number, key: string): void => {
    seen.add(key);
    let handle: Dir;
    try {
      handle = opendirSync(dir);
    } catch (e) {
      throw fail(e);
    }
    try {
      visit(dir, level);
      for (;;) {
        let entry: ReturnType<Dir["readSync"]>;
        try {
          entry = handle.readSync();
        } catch (e) {
          throw fail(e);
        }
        if (entry === null) break;
        if (entry.isFile()) continue; // nftw's FTW_F: nothing for bpftool to do
        const path = dir.endsWith("/") ? `${dir}${entry.name}` : `${dir}/${entry.name}`;
        let s: ReturnType<typeof statSync>;
        try {
          s = statSync(path);
        } catch {
          continue; // FTW_NS or FTW_SLN: not a directory
        }
        if (!s.isDirectory() || s.dev !== rootDev) continue;
        const k = `${s.dev}:${s.ino}`;
        if (seen.has(k)) continue;
        walk(path, level + 1, k);
      }
    } finally {
      handle.closeSync();
    }
  };
  walk(start, 0, `${st.dev}:${st.ino}`);
}
