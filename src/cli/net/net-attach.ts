/**
 * `tsbpf net attach ATTACH_TYPE PROG dev NAME [overwrite|prepend]` and `tsbpf net detach
 * ATTACH_TYPE dev NAME`.
 *
 * bpftool 7.1's types — `xdp`, `xdpgeneric`, `xdpdrv`, `xdpoffload` — work as in
 * bpftool: RTM_SETLINK through netlink (the program stays after the command exits),
 * XDP_FLAGS_UPDATE_IF_NOEXIST unless `overwrite`, the same messages and exit statuses
 * (234, bpftool's -EINVAL, for bad input; 256 - errno when the kernel refuses).
 *
 * tsbpf's own types (bpftool 7.1 has none of them):
 * - `tcx_ingress`, `tcx_egress`: BPF_PROG_ATTACH with the device's ifindex (Linux 6.6),
 *   which stays without a link or pin, as later bpftool versions do; `prepend` puts
 *   the program first; detach removes the last program no link holds;
 * - `tc_ingress`, `tc_egress`: a direct-action cls_bpf filter under the device's clsact
 *   qdisc (created when missing), named `tsbpf:PROG_NAME` so detach knows its own;
 *   one per hook, `overwrite` replaces it; detach deletes tsbpf's filters and the
 *   clsact qdisc once neither hook has a filter left.
 *
 * A failed attach leaves nothing behind: the program type is checked first, and a
 * clsact qdisc created for a filter the kernel then refused is removed again.
 */
import { missingFromKernel } from "../../kernel/features/kernel-enum.ts";
import { progAttach, progDetach, progQuery } from "../../kernel/links/prog-attach.ts";
import {
  attachClsact,
  deleteClsactFilters,
  listClsactFilters,
  type TcDirection,
} from "../../kernel/links/tc-clsact.ts";
import { setXdpRequest, type TcFilter } from "../../kernel/netlink/rtnl.ts";
import { NetlinkError, NetlinkSocket } from "../../kernel/netlink/socket.ts";
import { Program } from "../../kernel/programs/program.ts";
import {
  AttachFlags,
  AttachType,
  Errno,
  errnoMessage,
  ProgType,
  progTypeName,
  XdpFlags,
} from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, exitForErrno } from "../format/output.ts";
import { errnoOf, openProg, reason } from "../objects/selectors.ts";
import { identifyProg } from "../prog/prog-pin.ts";
import { parseDev } from "./net-devices.ts";

/** bpftool's exit status for bad input: main() returns -EINVAL. */
const EXIT_EINVAL = 256 - Errno.EINVAL;

type Family = "xdp" | "tcx" | "tc";

/** An ATTACH_TYPE word. */
export interface NetAttachType {
  readonly name: string;
  readonly family: Family;
  /** XDP: the mode flag; tcx: the attach type. */
  readonly value: number;
  readonly direction?: TcDirection;
  /** Not in bpftool 7.1. */
  readonly own: boolean;
}

/** In bpftool's order (it settles abbreviations), tsbpf's own after bpftool's. */
export const NET_ATTACH_TYPES: readonly NetAttachType[] = [
  { name: "xdp", family: "xdp", value: 0, own: false },
  { name: "xdpgeneric", family: "xdp", value: XdpFlags.SKB_MODE, own: false },
  { name: "xdpdrv", family: "xdp", value: XdpFlags.DRV_MODE, own: false },
  { name: "xdpoffload", family: "xdp", value: XdpFlags.HW_MODE, own: false },
  {
    name: "tcx_ingress",
    family: "tcx",
    value: AttachType.TCX_INGRESS,
    direction: "ingress",
    own: true,
  },
  {
    name: "tcx_egress",
    family: "tcx",
    value: AttachType.TCX_EGRESS,
    direction: "egress",
    own: true,
  },
  { name: "tc_ingress", family: "tc", value: 0, direction: "ingress", own: true },
  { name: "tc_egress", family: "tc", value: 0, direction: "egress", own: true },
];

/** The name tsbpf gives its cls_bpf filters (what `net detach tc_*` deletes). */
export const TC_FILTER_PREFIX = "tsbpf:";

function parseAttachType(args: Args): NetAttachType {
  const w = args.next();
  const t = NET_ATTACH_TYPES.find((a) => a.name.startsWith(w));
  if (!t) throw new CliError(`invalid net attach/detach type: ${w}`, EXIT_EINVAL);
  return t;
}

function requireArgs(args: Args, n: number): void {
  if (args.count < n)
    throw new CliError(
      `'${args.previous}' needs at least ${n} arguments, ${args.count} found`,
      EXIT_EINVAL,
    );
}

/** The failure of an attach or detach the kernel (or a check before it) refused. */
function failed(t: NetAttachType, op: "attach" | "detach", e: unknown, detail?: string): CliError {
  const errno = errnoOf(e);
  const why = detail ?? (e instanceof NetlinkError ? e.kernelMessage : undefined);
  const text = errno ? (errnoMessage(errno) ?? `Unknown error ${errno}`) : reason(e);
  return new CliError(
    `interface ${t.name} ${op} failed: ${text}${why ? ` (${why})` : ""}`,
    errno ? exitForErrno(errno) : EXIT_EINVAL,
  );
}

/** A refusal with errno `errno` and tsbpf's explanation, before any system call. */
function refused(t: NetAttachType, op: "attach" | "detach", errno: number, detail?: string) {
  return failed(t, op, { errno }, detail);
}

/** `net attach`. */
export async function attachNet(ctx: Context, args: Args): Promise<void> {
  requireArgs(args, 5);
  const t = parseAttachType(args);
  let prog: Program;
  try {
    const fd = openProg(args, identifyProg);
    try {
      prog = Program.fromFd(fd);
    } catch (e) {
      fd.close();
      throw e;
    }
  } catch (e) {
    // bpftool returns -EINVAL for any PROG it cannot open.
    if (e instanceof CliError) throw new CliError(e.message, EXIT_EINVAL);
    throw e;
  }
  try {
    const ifindex = parseDev(args, EXIT_EINVAL);
    let overwrite = false;
    let prepend = false;
    if (args.count > 0) {
      if (args.is("overwrite") && t.family !== "tcx") overwrite = true;
      else if (args.is("prepend") && t.family === "tcx") prepend = true;
      else if (args.is("overwrite"))
        throw new CliError("'overwrite' is not supported for tcx_ingress/tcx_egress", EXIT_EINVAL);
      else
        throw new CliError(
          `expected '${t.family === "tcx" ? "prepend" : "overwrite"}', got: '${args.peek()}'?`,
          EXIT_EINVAL,
        );
    }
    switch (t.family) {
      case "xdp":
        attachXdp(t, prog, ifindex, overwrite);
        break;
      case "tcx":
        attachTcx(t, prog, ifindex, prepend);
        break;
      case "tc":
        attachTcFilter(t, prog, ifindex, overwrite);
        break;
    }
  } finally {
    prog.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}

/** `net detach`. */
export async function detachNet(ctx: Context, args: Args): Promise<void> {
  requireArgs(args, 3);
  const t = parseAttachType(args);
  const ifindex = parseDev(args, EXIT_EINVAL);
  switch (t.family) {
    case "xdp":
      setXdp(t, "detach", ifindex, -1, t.value | XdpFlags.UPDATE_IF_NOEXIST);
      break;
    case "tcx":
      detachTcx(t, ifindex);
      break;
    case "tc":
      detachTcFilters(t, ifindex);
      break;
  }
  if (ctx.out.json) ctx.out.value(null);
}

function expectType(t: NetAttachType, prog: Program, type: number): void {
  if (prog.type === type) return;
  const want = progTypeName(type) ?? `type ${type}`;
  throw refused(
    t,
    "attach",
    Errno.EINVAL,
    `program ${prog.name || "(no name)"} is ${prog.typeName}; ${t.name} takes ${want} programs`,
  );
}

function attachXdp(t: NetAttachType, prog: Program, ifindex: number, overwrite: boolean): void {
  expectType(t, prog, ProgType.XDP);
  setXdp(t, "attach", ifindex, prog.fd, t.value | (overwrite ? 0 : XdpFlags.UPDATE_IF_NOEXIST));
}

/** RTM_SETLINK with IFLA_XDP, as libbpf's bpf_xdp_attach sends it for bpftool. */
function setXdp(
  t: NetAttachType,
  op: "attach" | "detach",
  ifindex: number,
  fd: number,
  flags: number,
): void {
  using nl = new NetlinkSocket();
  try {
    nl.request(setXdpRequest(ifindex, fd, flags), `${op} xdp on ifindex ${ifindex}`);
  } catch (e) {
    const hint =
      e instanceof NetlinkError &&
      !e.kernelMessage &&
      e.code === "EINVAL" &&
      t.name === "xdpoffload"
        ? "offload needs a driver that offloads XDP and a program loaded for that device"
        : undefined;
    throw failed(t, op, e, hint);
  }
}

/** Why a tcx command failed on a kernel without tcx, else undefined. */
function tcxMissing(t: NetAttachType, e: unknown): string | undefined {
  if (errnoOf(e) !== Errno.EINVAL) return undefined;
  return missingFromKernel("attach", t.value, `tcx (${t.name})`, Errno.EINVAL, "tcx")?.message;
}

function attachTcx(t: NetAttachType, prog: Program, ifindex: number, prepend: boolean): void {
  expectType(t, prog, ProgType.SCHED_CLS);
  try {
    progAttach(prog, ifindex, t.value, `ifindex ${ifindex}`, {
      ...(prepend && { flags: AttachFlags.BEFORE }),
    });
  } catch (e) {
    throw failed(t, "attach", e, tcxMissing(t, e));
  }
}

/**
 * Detaches the last program on the hook that no link holds (the kernel's own choice
 * without a program, the last entry, is refused with EBUSY when a link holds it).
 */
function detachTcx(t: NetAttachType, ifindex: number): void {
  try {
    const q = progQuery(ifindex, t.value, `ifindex ${ifindex}`);
    const i = q.progIds.findLastIndex((_, k) => !q.linkIds[k]);
    if (i < 0) {
      const linked = q.progIds.length > 0;
      throw refused(
        t,
        "detach",
        Errno.ENOENT,
        linked ? 'only links hold programs there: "tsbpf link detach" detaches those' : undefined,
      );
    }
    using prog = Program.fromId(q.progIds[i] as number);
    progDetach(prog, ifindex, t.value, `ifindex ${ifindex}`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw failed(t, "detach", e, tcxMissing(t, e));
  }
}

const isOurs = (f: TcFilter) => f.bpf?.name?.startsWith(TC_FILTER_PREFIX) === true;

function attachTcFilter(
  t: NetAttachType,
  prog: Program,
  ifindex: number,
  overwrite: boolean,
): void {
  expectType(t, prog, ProgType.SCHED_CLS);
  const direction = t.direction as TcDirection;
  const what = `tc ${direction} on ifindex ${ifindex}`;
  try {
    const ours = listClsactFilters(ifindex, direction).find(isOurs);
    if (ours && !overwrite)
      throw refused(
        t,
        "attach",
        Errno.EEXIST,
        `tsbpf's filter ${ours.bpf?.name} (id ${ours.bpf?.id}) is there; add 'overwrite' to replace it`,
      );
    const name = `${TC_FILTER_PREFIX}${prog.name}`;
    // The link attachClsact returns is dropped, not closed: the filter stays.
    attachClsact(
      prog,
      ifindex,
      direction,
      what,
      ours
        ? { name, replace: true, priority: ours.priority, handle: ours.handle, chain: ours.chain }
        : { name },
    );
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw failed(t, "attach", e);
  }
}

function detachTcFilters(t: NetAttachType, ifindex: number): void {
  const direction = t.direction as TcDirection;
  try {
    const ours = listClsactFilters(ifindex, direction).filter(isOurs);
    if (ours.length === 0)
      throw refused(t, "detach", Errno.ENOENT, `no tsbpf filter on the ${direction} hook`);
    deleteClsactFilters(ifindex, direction, ours, `tc ${direction} on ifindex ${ifindex}`, {
      removeEmptyQdisc: true,
    });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw failed(t, "detach", e);
  }
}
