/**
 * BTF-attached programs: fentry/fexit/fmod_ret and tp_btf (tracing), LSM hooks and
 * iterators. The target was fixed at load time (`attach_btf_id`), so attaching only
 * names the attach type: BPF_LINK_CREATE, or BPF_RAW_TRACEPOINT_OPEN without a name on
 * kernels older than 5.x that lack tracing links.
 *
 * @module
 */

import { AttachType, attachTypeName, ProgType } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { allocNative, freeNative, SyscallError } from "../sys/index.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType, linkCreate } from "./link-create.ts";
import { rawTracepointOpen } from "./raw-tracepoint.ts";

/** Options of {@link attachTracing}. */
export interface TracingOptions {
  /** bpf_get_attach_cookie() value (Linux >= 5.19 for fentry/fexit). */
  readonly cookie?: bigint;
  /** Attach to this BTF id instead of the one given at load (freplace targets). */
  readonly targetBtfId?: number;
  /** The program (freplace) or BTF object the target id lives in. */
  readonly targetFd?: number;
}

const TRACING_ATTACH = new Set<number>([
  AttachType.TRACE_FENTRY,
  AttachType.TRACE_FEXIT,
  AttachType.MODIFY_RETURN,
  AttachType.TRACE_RAW_TP,
  AttachType.LSM_MAC,
]);

/**
 * Attaches a tracing (fentry, fexit, fmod_ret, tp_btf) or LSM program to the target
 * it was loaded for. `attachType` must be the program's expected attach type
 * (`AttachType.TRACE_FENTRY`, ..., `AttachType.LSM_MAC` for LSM).
 *
 * @throws SyscallError naming the program (EINVAL: attach type differs from the
 * program's).
 * @example
 * ```ts
 * using link = attachTracing(prog, AttachType.TRACE_FENTRY);
 * ```
 */
export function attachTracing(prog: Program, attachType: number, opts: TracingOptions = {}): Link {
  const name = attachTypeName(attachType) ?? `attach type ${attachType}`;
  const what = `${name} (${prog.name})`;
  expectProgType(prog, [ProgType.TRACING, ProgType.LSM, ProgType.EXT], what);
  if (!TRACING_ATTACH.has(attachType) && prog.type !== ProgType.EXT) {
    throw new TypeError(
      `${prog}: ${name} is not a tracing attach type (fentry, fexit, fmod_ret, tp_btf, lsm); iterators attach with attachIter`,
    );
  }
  try {
    const fd = linkCreate(prog, opts.targetFd ?? 0, attachType, what, (call) => {
      if (opts.targetBtfId !== undefined) call.u32("tracing.target_btf_id", opts.targetBtfId);
      if (opts.cookie) call.set("tracing.cookie", opts.cookie);
    });
    return newLink({ fd, description: what });
  } catch (e) {
    // Before tracing links (5.10 for fentry; LSM and tp_btf later), the same attachment
    // is a raw tracepoint open without a name.
    if (
      !(e instanceof SyscallError) ||
      e.code !== "EINVAL" ||
      opts.cookie ||
      opts.targetBtfId !== undefined
    ) {
      throw e;
    }
    return newLink({ fd: rawTracepointOpen(prog, undefined, what), description: what });
  }
}

/** Attaches an LSM program to the hook it was loaded for. */
export function attachLsm(prog: Program): Link {
  return attachTracing(prog, AttachType.LSM_MAC);
}

/** Options of {@link attachIter}: at most one of these narrows the iteration. */
export interface IterOptions {
  /** For map element iterators (bpf_map_elem, bpf_sk_storage_map): the map's fd. */
  readonly mapFd?: number;
  /** For task iterators: one thread. */
  readonly tid?: number;
  /** For task iterators: one process. */
  readonly pid?: number;
  /** For the cgroup iterator: the cgroup's fd and the walk order (BPF_CGROUP_ITER_*). */
  readonly cgroupFd?: number;
  readonly cgroupOrder?: number;
}

/**
 * Attaches an iterator program (`SEC("iter/task")`) as an iter link; reading from an
 * iterator made from it (`openIterator(link)`, BPF_ITER_CREATE) then runs it.
 */
export function attachIter(prog: Program, opts: IterOptions = {}): Link {
  const what = `iterator (${prog.name})`;
  expectProgType(prog, [ProgType.TRACING], what);
  // union bpf_iter_link_info: map { map_fd }, cgroup { order, cgroup_fd, cgroup_id },
  // task { tid, pid, pid_fd }.
  const info = new Uint8Array(16);
  const v = new DataView(info.buffer);
  let used = false;
  if (opts.mapFd !== undefined) {
    v.setUint32(0, opts.mapFd, true);
    used = true;
  } else if (opts.cgroupFd !== undefined) {
    v.setUint32(0, opts.cgroupOrder ?? 0, true);
    v.setUint32(4, opts.cgroupFd, true);
    used = true;
  } else if (opts.tid !== undefined || opts.pid !== undefined) {
    v.setUint32(0, opts.tid ?? 0, true);
    v.setUint32(4, opts.pid ?? 0, true);
    used = true;
  }
  const mem = used ? allocNative(info.length) : undefined;
  try {
    if (mem) mem.bytes.set(info);
    const fd = linkCreate(prog, 0, AttachType.TRACE_ITER, what, (call) => {
      if (mem) call.set("iter_info", mem.address).u32("iter_info_len", info.length);
    });
    return newLink({ fd, description: what });
  } finally {
    if (mem) freeNative(mem);
  }
}
