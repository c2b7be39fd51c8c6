/**
 * What a run gives the helpers beyond the context: the task a tracing program runs in,
 * "kernel" and "user" memory for probe_read, the stack for get_stack(id), the CPU —
 * and what the helpers report back (a redirect). Also the callback addresses of
 * bpf_loop and for_each_map_elem.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { MapFlags } from "../uapi/index.ts";
import type { Code, Machine } from "./interpreter.ts";
import type { VmMap } from "./maps/map.ts";
import { REGION_HI_BASE as HI, REGION_LO_BASE as LO, type VmMemory } from "./memory.ts";

/** The current task, as bpf_get_current_* report it. */
export interface VmTaskInfo {
  /** Process id (the kernel's tgid); default 1. */
  readonly pid?: number;
  /** Thread id (the kernel's pid); default `pid`. */
  readonly tid?: number;
  /** User id; default 0. */
  readonly uid?: number;
  /** Group id; default 0. */
  readonly gid?: number;
  /** Command name (at most 15 bytes are kept, as TASK_COMM_LEN); default "tsbpf-vm". */
  readonly comm?: string;
  /** What bpf_get_current_task returns (a kernel address); default 0. */
  readonly task?: bigint;
}

/**
 * Memory a probe_read helper may read at kernel or user addresses: `bytes` appear at
 * `address`. Reads that leave every region fault (-EFAULT), as on an unmapped address.
 */
export interface ProbeRegion {
  /** Start address. */
  readonly address: bigint;
  /** The bytes there. */
  readonly bytes: Uint8Array;
  /** "kernel" (probe_read_kernel*), "user" (probe_read_user*) or "any" (default). */
  readonly space?: "kernel" | "user" | "any";
}

/** Call stacks for bpf_get_stackid and bpf_get_stack: instruction pointers, innermost first. */
export interface VmStackInput {
  readonly kernel?: readonly bigint[];
  readonly user?: readonly bigint[];
}

/** A redirect a helper decided (bpf_redirect, bpf_redirect_map). */
export interface VmRedirect {
  /** The target ifindex (bpf_redirect), or the map key (bpf_redirect_map). */
  readonly target: number;
  /** The flags the program passed. */
  readonly flags: bigint;
  /** The map for bpf_redirect_map. */
  readonly map?: VmMap;
}

/** The extra run input the helpers read (set on `m.env.input` for each run). */
export interface HelperInput {
  /** The CPU the program runs on (per-CPU maps, smp_processor_id, BPF_F_CURRENT_CPU). */
  readonly cpu?: number;
  /** The current task. */
  readonly task?: VmTaskInfo;
  /** Memory for probe_read_*. */
  readonly probeMemory?: readonly ProbeRegion[];
  /** Call stacks for get_stack/get_stackid. */
  readonly stack?: VmStackInput;
}

/** The helper input of the current run. */
export function helperInput(m: Machine): HelperInput {
  return (m.env.input as HelperInput | undefined) ?? {};
}

/**
 * The region behind a program's function addresses (lddw with BPF_PSEUDO_FUNC): the
 * address of slot `pc` of the program is byte `pc` of this (inaccessible) region, so a
 * helper finds the code and the slot from the address alone.
 */
export class CallbackTarget {
  /** The program's code, set once it is compiled. */
  code: Code | undefined;
}

/** The region id of `target` in `memory` (added the first time). */
export function callbackRegion(memory: VmMemory, target: CallbackTarget): number {
  return memory.regionFor(target, () =>
    memory.addRegion("program code", new Uint8Array(0), { read: [0, 0], write: [0, 0] }),
  );
}

/** The address of slot `pc` of the program behind `target`. */
export function callbackAddress(memory: VmMemory, target: CallbackTarget, pc: number): bigint {
  return (BigInt(HI + callbackRegion(memory, target)) << 32n) + BigInt(LO + pc);
}

/** The region id of `map`'s values in `memory` (added the first time; read-only with BPF_F_RDONLY_PROG). */
export function mapRegion(memory: VmMemory, map: VmMap): number {
  return memory.regionFor(map, () => {
    map.noteRegion(memory);
    return memory.addRegion(`map ${map.name}`, map.values, {
      kind: "map",
      write: map.flags & MapFlags.RDONLY_PROG ? [0, 0] : [0, map.values.length],
    });
  });
}
