/**
 * Tracing helpers over what the run input supplies: the current task
 * (pid_tgid, uid_gid, comm, task), probe_read of "kernel" and "user" memory the caller
 * lays out (`probeMemory`; VM memory counts as kernel memory too), and call stacks
 * (`stack`) for get_stack and get_stackid.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { Errno, HelperId, StackFlags } from "../uapi/index.ts";
import type { HelperFunction, Machine } from "./interpreter.ts";
import { VmStackTraceMap } from "./maps/stack-trace.ts";
import { helperInput } from "./run-env.ts";

/** `TASK_COMM_LEN`. */
export const TASK_COMM_LEN = 16;

/** A byte source for probe reads: the byte at an address, or -1 when nothing is mapped there. */
type ByteAt = (addr: bigint) => number;

function probeReader(m: Machine, space: "kernel" | "user"): ByteAt {
  const regions = (helperInput(m).probeMemory ?? []).filter(
    (r) => (r.space ?? "any") === "any" || r.space === space,
  );
  return (addr) => {
    for (const r of regions) {
      const o = addr - r.address;
      if (o >= 0n && o < BigInt(r.bytes.length)) return r.bytes[Number(o)] as number;
    }
    if (space === "kernel") {
      const { id, offset } = m.memory.locate(addr);
      if (
        id >= 0 &&
        id < m.memory.count &&
        offset >= (m.access.readLo[id] as number) &&
        offset < (m.access.readHi[id] as number)
      )
        return (m.memory.bytes[id] as Uint8Array)[offset] as number;
    }
    return -1;
  };
}

/** Copies `size` bytes at `src` into `dst`; false (and `dst` zeroed) when any byte is unmapped. */
function probeCopy(at: ByteAt, dst: Uint8Array, src: bigint): boolean {
  for (let i = 0; i < dst.length; i++) {
    const b = at(BigInt.asUintN(64, src + BigInt(i)));
    if (b < 0) {
      dst.fill(0);
      return false;
    }
    dst[i] = b;
  }
  return true;
}

/** strncpy_from_*_nofault: the length copied including the NUL, or -EFAULT (and `dst` zeroed). */
function probeCopyStr(at: ByteAt, dst: Uint8Array, src: bigint): number {
  const n = dst.length;
  if (n === 0) return 0;
  for (let i = 0; i < n; i++) {
    const b = at(BigInt.asUintN(64, src + BigInt(i)));
    if (b < 0) {
      dst.fill(0);
      return -Errno.EFAULT;
    }
    dst[i] = b;
    if (b === 0) return i + 1;
  }
  dst[n - 1] = 0;
  return n;
}

function stackOf(m: Machine, flags: number): readonly bigint[] {
  const s = helperInput(m).stack;
  return (flags & StackFlags.USER_STACK ? s?.user : s?.kernel) ?? [];
}

/** The tracing helpers of this module, by id. */
export function traceHelpers(): [number, HelperFunction][] {
  const task = (m: Machine) => helperInput(m).task ?? {};
  const pidTgid: HelperFunction = (m) => {
    const t = task(m);
    const pid = BigInt((t.pid ?? 1) >>> 0);
    const tid = BigInt((t.tid ?? t.pid ?? 1) >>> 0);
    return (pid << 32n) | tid;
  };
  const uidGid: HelperFunction = (m) => {
    const t = task(m);
    return (BigInt((t.gid ?? 0) >>> 0) << 32n) | BigInt((t.uid ?? 0) >>> 0);
  };
  const comm: HelperFunction = (m) => {
    const size = m.argU32(2);
    const buf = m.argPtr(1, size, "write");
    const name = new TextEncoder()
      .encode(task(m).comm ?? "tsbpf-vm")
      .subarray(0, TASK_COMM_LEN - 1);
    buf.fill(0);
    if (size > 0) buf.set(name.subarray(0, size - 1));
    return 0;
  };
  const currentTask: HelperFunction = (m) => task(m).task ?? 0n;
  const read =
    (space: "kernel" | "user"): HelperFunction =>
    (m) => {
      const size = m.argU32(2);
      const dst = m.argPtr(1, size, "write");
      return probeCopy(probeReader(m, space), dst, m.arg(3)) ? 0 : -Errno.EFAULT;
    };
  const readStr =
    (space: "kernel" | "user"): HelperFunction =>
    (m) => {
      const size = m.argU32(2);
      const dst = m.argPtr(1, size, "write");
      return probeCopyStr(probeReader(m, space), dst, m.arg(3));
    };
  const getStackid: HelperFunction = (m) => {
    const map = m.argMap(2);
    if (!(map instanceof VmStackTraceMap))
      throw m.error(`bpf_get_stackid needs a stack trace map, ${map} is not`);
    const flags = m.arg(3);
    const known =
      StackFlags.SKIP_FIELD_MASK |
      StackFlags.USER_STACK |
      StackFlags.FAST_STACK_CMP |
      StackFlags.REUSE_STACKID;
    if (flags & ~BigInt(known)) return -Errno.EINVAL;
    return map.stackId(stackOf(m, Number(flags)), Number(flags));
  };
  const getStack: HelperFunction = (m) => {
    const size = m.argU32(3);
    const buf = m.argPtr(2, size, "write");
    const flags = m.arg(4);
    const f = Number(flags & 0xffff_ffffn);
    if (
      flags & ~BigInt(StackFlags.SKIP_FIELD_MASK | StackFlags.USER_STACK | StackFlags.USER_BUILD_ID)
    ) {
      buf.fill(0);
      return -Errno.EINVAL;
    }
    if (f & StackFlags.USER_BUILD_ID) {
      if (!(f & StackFlags.USER_STACK)) {
        buf.fill(0);
        return -Errno.EINVAL;
      }
      throw m.error("bpf_get_stack with BPF_F_USER_BUILD_ID is not supported by the VM");
    }
    if (size % 8 !== 0) {
      buf.fill(0);
      return -Errno.EINVAL;
    }
    const skip = f & StackFlags.SKIP_FIELD_MASK;
    const frames = stackOf(m, f).slice(0, size / 8 + skip);
    if (frames.length < skip) {
      buf.fill(0);
      return -Errno.EFAULT;
    }
    const ips = frames.slice(skip);
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    buf.fill(0);
    ips.forEach((ip, i) => {
      v.setBigUint64(i * 8, BigInt.asUintN(64, ip), true);
    });
    return ips.length * 8;
  };
  return [
    [HelperId.get_current_pid_tgid, pidTgid],
    [HelperId.get_current_uid_gid, uidGid],
    [HelperId.get_current_comm, comm],
    [HelperId.get_current_task, currentTask],
    [HelperId.get_current_task_btf, currentTask],
    [HelperId.probe_read, read("kernel")],
    [HelperId.probe_read_kernel, read("kernel")],
    [HelperId.probe_read_user, read("user")],
    [HelperId.probe_read_str, readStr("kernel")],
    [HelperId.probe_read_kernel_str, readStr("kernel")],
    [HelperId.probe_read_user_str, readStr("user")],
    [HelperId.get_stackid, getStackid],
    [HelperId.get_stack, getStack],
  ];
}
