/**
 * PROG and MAP selectors as bpftool parses them — `id N`, `pinned PATH`, `tag TAG`
 * (programs), `name NAME` — opened as descriptors, with bpftool's error messages.
 * Name and tag may match several objects (show/dump take them all; other commands
 * want exactly one).
 */

import { mapInfoByFd } from "../../kernel/maps/map-info.ts";
import { fdKind } from "../../kernel/objects/fd-kind.ts";
import { type ObjectKind, objectFdById, objectIds } from "../../kernel/objects/objects.ts";
import { openPinned } from "../../kernel/objects/pin.ts";
import { type Fd, SyscallError } from "../../kernel/sys/index.ts";
import { BPF_OBJ_NAME_LEN, Errno, errnoMessage } from "../../uapi/index.ts";
import { type Args, parseU32 } from "../args.ts";
import { CliError, UsageError } from "../format/output.ts";

import { reason } from "./error-text.ts";

export { errnoOf, reason } from "./error-text.ts";

/** The longest program name bpftool accepts (its MAX_PROG_FULL_NAME - 1). */
const MAX_PROG_FULL_NAME = 128;

/** Closes every descriptor (after an error or when done). */
export function closeAll(fds: readonly Fd[]): void {
  for (const fd of fds) fd.close();
}

function idArg(args: Args): number {
  const w = args.next();
  const id = parseU32(w);
  if (id === undefined) throw new CliError(`can't parse ${w} as ID`);
  return id;
}

/** bpftool's open_obj_pinned_any: the pin at `path`, which must be a `kind`. */
export function openPinnedOfKind(path: string, kind: "prog" | "map" | "link"): Fd {
  let fd: Fd;
  try {
    fd = openPinned(path);
  } catch (e) {
    const notBpffs = e instanceof SyscallError && e.code === "EACCES";
    throw new CliError(
      `bpf obj get (${path}): ${notBpffs ? "directory not in bpf file system (bpffs)" : reason(e)}`,
    );
  }
  const actual = fdKind(fd.value);
  if (actual !== kind) {
    fd.close();
    throw new CliError(`incorrect object type: ${actual}`);
  }
  return fd;
}

/** How to match a program found by walking ids: its name and tag. */
export interface ProgIdentity {
  readonly name: string;
  /** 16 lowercase hex digits. */
  readonly tag: string;
}

/**
 * bpftool's prog_parse_fds: the programs a PROG selector names. `identify` reads a
 * program's full name and tag (for `name` and `tag` selectors).
 */
export function openProgs(args: Args, identify: (fd: Fd) => ProgIdentity): Fd[] {
  if (args.is("id")) {
    args.skip();
    const id = idArg(args);
    return [openById("prog", id, "get by id")];
  }
  if (args.is("tag")) {
    args.skip();
    const w = args.next();
    const m = /^([0-9a-fA-F]{2}){8}/.exec(w);
    if (!m) throw new CliError("can't parse tag");
    const tag = m[0].toLowerCase();
    return nonEmpty(
      walk("prog", (fd) => identify(fd).tag === tag),
      `no program with tag ${tag}`,
    );
  }
  if (args.is("name")) {
    args.skip();
    const name = args.next();
    if (name.length > MAX_PROG_FULL_NAME - 1) throw new CliError("can't parse name");
    return nonEmpty(
      walk("prog", (fd) => identify(fd).name === name),
      `no program named '${name}'`,
    );
  }
  if (args.is("pinned")) {
    args.skip();
    return [openPinnedOfKind(args.next(), "prog")];
  }
  throw new CliError(`expected 'id', 'tag', 'name' or 'pinned', got: '${args.peek()}'?`);
}

/** bpftool's map_parse_fds: the maps a MAP selector names. */
export function openMaps(args: Args): Fd[] {
  if (args.is("id")) {
    args.skip();
    const id = idArg(args);
    return [openById("map", id, "get map by id")];
  }
  if (args.is("name")) {
    args.skip();
    const name = args.next();
    if (name.length > BPF_OBJ_NAME_LEN - 1) throw new CliError("can't parse name");
    return nonEmpty(
      walk("map", (fd) => mapInfoByFd(fd.value).name === name),
      `no map named '${name}'`,
    );
  }
  if (args.is("pinned")) {
    args.skip();
    return [openPinnedOfKind(args.next(), "map")];
  }
  throw new CliError(`expected 'id', 'name' or 'pinned', got: '${args.peek()}'?`);
}

/** Exactly one object: bpftool's prog_parse_fd / map_parse_fd. */
export function single(fds: Fd[], kind: "programs" | "maps"): Fd {
  if (fds.length === 1) return fds[0] as Fd;
  closeAll(fds);
  throw new CliError(`several ${kind} match this handle`);
}

/**
 * bpftool fails silently (exit code 255, no message) when a name or tag matches
 * nothing; tsbpf says so.
 */
function nonEmpty(fds: Fd[], message: string): Fd[] {
  if (fds.length === 0) throw new CliError(message);
  return fds;
}

/** One program from a PROG selector. */
export function openProg(args: Args, identify: (fd: Fd) => ProgIdentity): Fd {
  if (args.count === 0) throw new UsageError();
  return single(openProgs(args, identify), "programs");
}

/** One map from a MAP selector. */
export function openMap(args: Args): Fd {
  if (args.count === 0) throw new UsageError();
  return single(openMaps(args), "maps");
}

/**
 * The object of `kind` with `id`; a failure, or no such object, is a CliError that
 * starts with `what` (`get map by id (7): No such file or directory`).
 */
export function openById(kind: ObjectKind, id: number, what: string): Fd {
  let fd: Fd | undefined;
  try {
    fd = objectFdById(kind, id);
  } catch (e) {
    throw new CliError(`${what} (${id}): ${reason(e)}`);
  }
  if (!fd) throw new CliError(`${what} (${id}): ${errnoMessage(Errno.ENOENT)}`);
  return fd;
}

/**
 * Opens every object of `kind` in id order, skipping those gone since their id was
 * seen; the caller owns (and closes) each descriptor it is handed. `label` names the
 * kind in the error for any other failure (`can't get BTF object by id (7): ...`).
 */
export function* openEachObject(
  kind: ObjectKind,
  label: string = kind,
): Generator<{ id: number; fd: Fd }, void, undefined> {
  for (const id of objectIds(kind)) {
    let fd: Fd | undefined;
    try {
      fd = objectFdById(kind, id);
    } catch (e) {
      throw new CliError(`can't get ${label} by id (${id}): ${reason(e)}`);
    }
    if (fd) yield { id, fd };
  }
}

function walk(kind: "prog" | "map", match: (fd: Fd) => boolean): Fd[] {
  const out: Fd[] = [];
  try {
    for (const { id, fd } of openEachObject(kind)) {
      let keep = false;
      try {
        keep = match(fd);
      } catch (e) {
        fd.close();
        throw new CliError(`can't get ${kind} info (${id}): ${reason(e)}`);
      }
      if (keep) out.push(fd);
      else fd.close();
    }
  } catch (e) {
    closeAll(out);
    throw e;
  }
  return out;
}
