/**
 * tc programs the classic way, as `tc qdisc add dev X clsact` + `tc filter add dev X
 * ingress bpf da ...` do it: a cls_bpf filter in direct-action mode under the clsact
 * qdisc, through netlink. Works on every kernel (tcx needs Linux 6.6).
 *
 * The qdisc is created when the device has none, and removed again when tsbpf created
 * it and its last filter goes. Closing the link deletes the filter — only if it still
 * runs the program tsbpf attached.
 *
 * @module
 */
import { ProgType } from "../../uapi/index.ts";
import {
  addBpfFilterRequest,
  addClsactRequest,
  clsactParent,
  deleteClsactRequest,
  deleteFilterRequest,
  getFiltersRequest,
  getQdiscsRequest,
  parseFilter,
  parseQdisc,
  Rtm,
  type TcFilter,
  type TcFilterId,
  TcHandle,
} from "../netlink/rtnl.ts";
import { NetlinkError, NetlinkSocket } from "../netlink/socket.ts";
import type { Program } from "../programs/program.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType } from "./link-create.ts";

/** A clsact hook. */
export type TcDirection = "ingress" | "egress";

/** Options of a clsact attachment. */
export interface ClsactOptions {
  /** tc's `pref`, 1..65535; default: the kernel's choice (49152 for the first filter). */
  readonly priority?: number;
  /** The filter's handle; default: the kernel's choice (1 for the first). */
  readonly handle?: number;
  /** Filter chain (default 0). */
  readonly chain?: number;
  /** The filter's name as `tc filter show` prints it; default: the program's name. */
  readonly name?: string;
  /** Swap out a filter with the same priority and handle (needs both). */
  readonly replace?: boolean;
}

/** The qdisc kinds on a device, by handle, from a qdisc dump. */
function qdiscKinds(nl: NetlinkSocket, ifindex: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of nl.dump(getQdiscsRequest(), `list qdiscs`)) {
    if (m.type !== Rtm.NEWQDISC) continue;
    const q = parseQdisc(m);
    if (q.ifindex === ifindex) out.set(q.parent, q.kind);
  }
  return out;
}

/**
 * Makes sure the device has a clsact qdisc; true when this call created it.
 * @throws Error when the device has a plain ingress qdisc in clsact's place.
 */
function ensureClsact(nl: NetlinkSocket, ifindex: number, what: string): boolean {
  const kind = qdiscKinds(nl, ifindex).get(TcHandle.CLSACT);
  if (kind === "clsact") return false;
  if (kind !== undefined)
    throw new Error(
      `${what}: the device has an "${kind}" qdisc where clsact goes (tc qdisc del dev ... ${kind})`,
    );
  try {
    nl.request(addClsactRequest(ifindex), `${what}: add the clsact qdisc`);
    return true;
  } catch (e) {
    // Someone else added it in between: use theirs.
    if (e instanceof NetlinkError && e.code === "EEXIST") return false;
    throw e;
  }
}

/** The bpf filters on a clsact hook of a device. */
export function listClsactFilters(ifindex: number, direction: TcDirection): TcFilter[] {
  using nl = new NetlinkSocket();
  return clsactFilters(nl, ifindex, direction);
}

function clsactFilters(nl: NetlinkSocket, ifindex: number, direction: TcDirection): TcFilter[] {
  try {
    return nl
      .dump(getFiltersRequest(ifindex, clsactParent(direction)), `list tc ${direction} filters`)
      .filter((m) => m.type === Rtm.NEWTFILTER)
      .map(parseFilter)
      .filter((f) => f.handle !== 0);
  } catch (e) {
    // No clsact qdisc: no filters (the kernel says EINVAL, "Parent Qdisc doesn't exists").
    if (e instanceof NetlinkError && (e.code === "EINVAL" || e.code === "ENOENT")) return [];
    throw e;
  }
}

/** Attaches a sched_cls program as a direct-action cls_bpf filter on a clsact hook. */
export function attachClsact(
  prog: Program,
  ifindex: number,
  direction: TcDirection,
  what: string,
  opts: ClsactOptions = {},
): Link {
  expectProgType(prog, [ProgType.SCHED_CLS], what);
  const priority = opts.priority ?? 0;
  const handle = opts.handle ?? 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > 0xffff)
    throw new RangeError(`${what}: priority ${priority} is not 1..65535`);
  if (!Number.isInteger(handle) || handle < 0 || handle > 0xffffffff)
    throw new RangeError(`${what}: handle ${handle} is not a 32-bit number`);
  if (opts.replace && (!priority || !handle))
    throw new Error(`${what}: replacing a filter needs its priority and handle`);
  const progId = prog.id;
  using nl = new NetlinkSocket();
  const created = ensureClsact(nl, ifindex, what);
  let id: TcFilterId;
  try {
    const before = new Set(clsactFilters(nl, ifindex, direction).map(key));
    nl.request(
      addBpfFilterRequest(
        ifindex,
        direction,
        { priority, handle, chain: opts.chain ?? 0 },
        prog.fd,
        opts.name ?? prog.name,
        opts.replace ?? false,
      ),
      `attach ${prog} to ${what}`,
    );
    // The kernel chose what was left 0: find the filter running this program that is new
    // (or, replacing, the one at the asked place).
    const mine = clsactFilters(nl, ifindex, direction).find(
      (f) =>
        f.bpf?.id === progId &&
        (opts.replace ? f.priority === priority && f.handle === handle : !before.has(key(f))),
    );
    if (!mine) throw new Error(`${what}: the filter was added but is not in the kernel's list`);
    id = { priority: mine.priority, handle: mine.handle, chain: mine.chain };
  } catch (e) {
    if (created) removeClsactIfEmpty(nl, ifindex);
    throw e;
  }
  return newLink({
    description: `tc ${direction} (clsact, pref ${id.priority} handle 0x${id.handle.toString(16)}) on ${what.replace(/^tc \w+ on /, "")}`,
    noLinkReason:
      'it is a cls_bpf filter attached through netlink, which makes no bpf_link; attach with via: "tcx" (Linux 6.6) for one',
    cleanup: () => {
      using nl2 = new NetlinkSocket();
      const current = clsactFilters(nl2, ifindex, direction).find((f) => key(f) === key(id));
      if (current?.bpf?.id === progId) {
        try {
          nl2.request(deleteFilterRequest(ifindex, direction, id), `detach ${what}`);
        } catch (e) {
          if (!(e instanceof NetlinkError && (e.code === "ENOENT" || e.code === "ENODEV"))) throw e;
        }
      }
      if (created) removeClsactIfEmpty(nl2, ifindex);
    },
  });
}

/**
 * Deletes cls_bpf filters from a clsact hook (one already gone is no error) and, with
 * `removeEmptyQdisc`, then the device's clsact qdisc when neither hook has a filter
 * left. `what` names the hook in errors.
 * @throws NetlinkError when the kernel refuses a deletion.
 */
export function deleteClsactFilters(
  ifindex: number,
  direction: TcDirection,
  filters: readonly TcFilterId[],
  what: string,
  opts: { readonly removeEmptyQdisc?: boolean } = {},
): void {
  using nl = new NetlinkSocket();
  for (const f of filters) {
    try {
      nl.request(deleteFilterRequest(ifindex, direction, f), `delete a filter from ${what}`);
    } catch (e) {
      if (!(e instanceof NetlinkError && e.code === "ENOENT")) throw e;
    }
  }
  if (opts.removeEmptyQdisc) removeClsactIfEmpty(nl, ifindex);
}

const key = (f: TcFilterId) => `${f.chain ?? 0}:${f.priority}:${f.handle}`;

/** Deletes the device's clsact qdisc when neither hook has a filter left. */
function removeClsactIfEmpty(nl: NetlinkSocket, ifindex: number): void {
  if (clsactFilters(nl, ifindex, "ingress").length > 0) return;
  if (clsactFilters(nl, ifindex, "egress").length > 0) return;
  try {
    nl.request(deleteClsactRequest(ifindex), `remove the clsact qdisc of ifindex ${ifindex}`);
  } catch (e) {
    if (
      !(
        e instanceof NetlinkError &&
        (e.code === "ENOENT" || e.code === "EINVAL" || e.code === "ENODEV")
      )
    )
      throw e;
  }
}
