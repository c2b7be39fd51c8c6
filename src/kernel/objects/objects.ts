/**
 * Walking what the kernel holds: every program, map, link and BTF object has a
 * system-wide id; BPF_*_GET_NEXT_ID walks them in order and BPF_*_GET_FD_BY_ID opens
 * one. Needs CAP_SYS_ADMIN.
 *
 * @module
 */

import { BpfCmd, bpfAttr, Errno } from "../../uapi/index.ts";
import { BpfCall, Fd, type FieldName, SyscallError } from "../sys/index.ts";

/** The kinds of kernel object that have ids. */
export type ObjectKind = "prog" | "map" | "link" | "btf";

type GetIdField = FieldName<typeof bpfAttr.getId>;

const COMMANDS: Readonly<Record<ObjectKind, { next: BpfCmd; fd: BpfCmd; idField: GetIdField }>> = {
  prog: { next: BpfCmd.PROG_GET_NEXT_ID, fd: BpfCmd.PROG_GET_FD_BY_ID, idField: "prog_id" },
  map: { next: BpfCmd.MAP_GET_NEXT_ID, fd: BpfCmd.MAP_GET_FD_BY_ID, idField: "map_id" },
  link: { next: BpfCmd.LINK_GET_NEXT_ID, fd: BpfCmd.LINK_GET_FD_BY_ID, idField: "link_id" },
  btf: { next: BpfCmd.BTF_GET_NEXT_ID, fd: BpfCmd.BTF_GET_FD_BY_ID, idField: "btf_id" },
};

/**
 * The id after `id` among objects of `kind` (the first one for 0), or undefined when
 * there is none.
 */
export function nextObjectId(kind: ObjectKind, id = 0): number | undefined {
  const call = new BpfCall(COMMANDS[kind].next, bpfAttr.getId);
  call.u32("start_id", id);
  try {
    call.invoke(`${kind} next id (after ${id})`);
  } catch (e) {
    if (e instanceof SyscallError && e.errno === Errno.ENOENT) return undefined;
    throw e;
  }
  return call.get("next_id");
}

/** Every id of `kind`, in increasing order. Objects may come and go during the walk. */
export function* objectIds(kind: ObjectKind): Generator<number, void, undefined> {
  let id = 0;
  for (;;) {
    const next = nextObjectId(kind, id);
    if (next === undefined) return;
    yield next;
    id = next;
  }
}

/** Every program id. @example `for (const id of progIds()) console.log(id);` */
export function progIds(): Generator<number, void, undefined> {
  return objectIds("prog");
}

/** Every map id. */
export function mapIds(): Generator<number, void, undefined> {
  return objectIds("map");
}

/** Every link id. */
export function linkIds(): Generator<number, void, undefined> {
  return objectIds("link");
}

/** Every BTF object id. */
export function btfIds(): Generator<number, void, undefined> {
  return objectIds("btf");
}

/**
 * No kernel object of that kind has that id (it never existed or was freed): the one
 * error `BpfMap.fromId`, `Program.fromId` and `Link.fromId` throw for it. A
 * {@link SyscallError} with ENOENT, so `e.code === "ENOENT"` also tells.
 */
export class ObjectNotFoundError extends SyscallError {
  override readonly name: string = "ObjectNotFoundError";
  /** "map", "prog", "link" or "btf". */
  readonly kind: ObjectKind;
  /** The id asked for. */
  readonly id: number;

  constructor(kind: ObjectKind, id: number) {
    super(Errno.ENOENT, `open ${kind} by id ${id}`, `no BPF ${kind} has id ${id}`);
    this.kind = kind;
    this.id = id;
  }
}

/** The descriptor of the object `kind` with `id`; throws {@link ObjectNotFoundError} when there is none. */
export function requireObjectFdById(kind: ObjectKind, id: number, openFlags = 0): Fd {
  const fd = objectFdById(kind, id, openFlags);
  if (!fd) throw new ObjectNotFoundError(kind, id);
  return fd;
}

/**
 * Opens the object of `kind` with `id`. Returns undefined when no such object exists
 * (it may have gone between finding its id and opening it: a normal race when walking).
 * `openFlags`: BPF_F_RDONLY / BPF_F_WRONLY for maps.
 *
 * @throws SyscallError for anything else, e.g. EPERM without CAP_SYS_ADMIN.
 */
export function objectFdById(kind: ObjectKind, id: number, openFlags = 0): Fd | undefined {
  const { fd: cmd, idField } = COMMANDS[kind];
  const call = new BpfCall(cmd, bpfAttr.getId);
  call.u32(idField, id).u32("open_flags", openFlags);
  try {
    return new Fd(call.invoke(`open ${kind} by id ${id}`));
  } catch (e) {
    if (e instanceof SyscallError && e.errno === Errno.ENOENT) return undefined;
    throw e;
  }
}

/**
 * Hands a descriptor just opened (by id or pin) to a `fromFd`, closing it when that
 * throws: `fromFd` leaves what it was given to its caller on failure, and here the
 * caller is the opener.
 */
export function adoptOrClose<T>(fd: Fd, fromFd: (fd: Fd) => T): T {
  try {
    return fromFd(fd);
  } catch (e) {
    fd.close();
    throw e;
  }
}
