/**
 * The attach commands older than bpf_link: BPF_PROG_ATTACH, BPF_PROG_DETACH and
 * BPF_PROG_QUERY. A target is a cgroup directory's fd (cgroup programs), a network
 * namespace's fd (flow_dissector, sk_lookup has links only), a sockmap/sockhash's fd
 * (sk_skb, sk_msg verdicts and parsers), or a device's ifindex (tcx). Such an
 * attachment belongs to the target, not to a descriptor: it stays until detached.
 *
 * @module
 */
import { AttachFlags, attachTypeName, BpfCmd, bpfAttr, QueryFlags } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { BpfCall } from "../sys/index.ts";

/** `attach_flags` of BPF_PROG_ATTACH, as bpftool's `cgroup attach ... multi|override` names them. */
export type AttachMode = "exclusive" | "override" | "multi";

/** The BPF_F_ALLOW_* bits of a mode. */
export function attachModeFlags(mode: AttachMode): number {
  return mode === "multi"
    ? AttachFlags.ALLOW_MULTI
    : mode === "override"
      ? AttachFlags.ALLOW_OVERRIDE
      : 0;
}

/** Options of {@link progAttach}. */
export interface ProgAttachOptions {
  /** How other programs may attach beside or below this one (default exclusive). */
  readonly mode?: AttachMode;
  /** Replace this program atomically (BPF_F_REPLACE; multi mode only). */
  readonly replace?: Program;
  /**
   * More BPF_F_* bits, e.g. AttachFlags.BEFORE to put the program first on a tcx or
   * netkit hook (Linux 6.6) rather than last.
   */
  readonly flags?: number;
}

const typeName = (attachType: number) => attachTypeName(attachType) ?? `attach type ${attachType}`;

/**
 * BPF_PROG_ATTACH: attaches `prog` to `targetFd` for `attachType`. `what` names the
 * target in errors ("cgroup /sys/fs/cgroup/x").
 * @throws SyscallError naming the program and target (EPERM: an exclusive program is
 * there, or a parent forbids overriding; EEXIST: already attached in multi mode).
 */
export function progAttach(
  prog: Program,
  targetFd: number,
  attachType: number,
  what: string,
  opts: ProgAttachOptions = {},
): void {
  const call = new BpfCall(BpfCmd.PROG_ATTACH, bpfAttr.progAttach);
  let flags = attachModeFlags(opts.mode ?? "exclusive") | (opts.flags ?? 0);
  call.u32("target_fd", targetFd).u32("attach_bpf_fd", prog.fd).u32("attach_type", attachType);
  if (opts.replace) {
    flags |= AttachFlags.REPLACE;
    call.u32("replace_bpf_fd", opts.replace.fd);
  }
  call.u32("attach_flags", flags);
  call.invoke(`attach ${prog} to ${what} (${typeName(attachType)})`);
}

/**
 * BPF_PROG_DETACH: detaches `prog` (or, for targets holding one program per type, the
 * program there when `prog` is undefined) from `targetFd`.
 * @throws SyscallError (ENOENT: not attached there).
 */
export function progDetach(
  prog: Pick<Program, "fd"> | undefined,
  targetFd: number,
  attachType: number,
  what: string,
): void {
  const call = new BpfCall(BpfCmd.PROG_DETACH, bpfAttr.progAttach);
  call.u32("target_fd", targetFd).u32("attach_type", attachType);
  if (prog) call.u32("attach_bpf_fd", prog.fd);
  call.invoke(`detach ${prog ?? "the program"} from ${what} (${typeName(attachType)})`);
}

/** What BPF_PROG_QUERY says about one attach type of a target. */
export interface ProgQuery {
  /** The target's attach flags for the type (AttachFlags: ALLOW_MULTI, ALLOW_OVERRIDE). */
  readonly attachFlags: number;
  /** Program ids, in the order they run. */
  readonly progIds: number[];
  /** Per-program attach flags (cgroup, Linux 6.0+ with `effective` unset); else empty. */
  readonly progAttachFlags: number[];
  /** Ids of the links among them (tcx, netkit; Linux 6.6+); else empty. */
  readonly linkIds: number[];
  /** The target's attach revision (tcx, netkit), else 0n. */
  readonly revision: bigint;
}

/**
 * BPF_PROG_QUERY: the programs attached to `targetFd` for `attachType`; with
 * `effective`, those that run there, inherited from parent cgroups included.
 */
export function progQuery(
  targetFd: number,
  attachType: number,
  what: string,
  opts: { effective?: boolean } = {},
): ProgQuery {
  const operation = `query ${what} (${typeName(attachType)})`;
  const queryFlags = opts.effective ? QueryFlags.EFFECTIVE : 0;
  // First the count, then the ids (a program may come or go in between: ask again).
  // Per-program flags (6.0) and link ids (6.6) are fields an older kernel refuses
  // (EINVAL for a non-zero byte past what it knows): asked for, then done without,
  // the newer first. `extras`: 2 = both, 1 = per-program flags only, 0 = neither.
  let extras = 2;
  for (let attempt = 0; ; attempt++) {
    const count = new BpfCall(BpfCmd.PROG_QUERY, bpfAttr.query);
    count.u32("target_fd", targetFd).u32("attach_type", attachType).u32("query_flags", queryFlags);
    count.invoke(operation);
    const n = count.get("prog_cnt");
    const call = new BpfCall(BpfCmd.PROG_QUERY, bpfAttr.query);
    call.u32("target_fd", targetFd).u32("attach_type", attachType).u32("query_flags", queryFlags);
    const size = Math.max(n, 1) * 4;
    const ids = call.output("prog_ids", size);
    const progFlags =
      extras >= 1 && !opts.effective ? call.output("prog_attach_flags", size) : undefined;
    const links = extras >= 2 ? call.output("link_ids", size) : undefined;
    call.u32("prog_cnt", n);
    try {
      call.invoke(operation);
    } catch (e) {
      const code = (e as { code?: string }).code;
      // ENOSPC: more programs than a moment ago.
      if (code === "ENOSPC" && attempt < 3) continue;
      if (code === "EINVAL" && extras > 0) {
        // a kernel with per-program flags but no link ids (6.0-6.5) keeps the flags
        extras = extras === 2 && !opts.effective ? 1 : 0;
        continue;
      }
      throw e;
    }
    const got = call.get("prog_cnt");
    const read = (b: { bytes: Uint8Array } | undefined) => {
      if (!b) return [];
      const v = new DataView(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
      return Array.from({ length: got }, (_, i) => v.getUint32(i * 4, true));
    };
    const flags = read(progFlags);
    const linkIds = read(links);
    return {
      attachFlags: call.get("attach_flags"),
      progIds: read(ids),
      progAttachFlags: flags.some((f) => f !== 0) ? flags : [],
      linkIds: linkIds.some((id) => id !== 0) ? linkIds : [],
      revision: extras === 2 ? call.get64("revision") : 0n,
    };
  }
}
