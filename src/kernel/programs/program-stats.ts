/**
 * BPF_ENABLE_STATS: turn on the kernel's per-program run time and run count
 * accounting (`run_time_ns`, `run_cnt` in bpf_prog_info) for as long as the returned
 * descriptor stays open.
 * @module
 */

import { BpfCmd, bpfAttr, StatsType } from "../../uapi/index.ts";
import { BpfCall, Fd } from "../sys/index.ts";

/**
 * Enables run-time statistics for every BPF program until the returned {@link Fd} is
 * closed (the kernel counts holders; `kernel.bpf_stats_enabled` is the sysctl way).
 *
 * @example
 * ```ts
 * using stats = enableStats();
 * prog.run({ data, repeat: 100 });
 * prog.info().runCnt; // >= 100n
 * ```
 * @throws SyscallError (EPERM without CAP_SYS_ADMIN; EINVAL on kernels before 5.8).
 */
export function enableStats(type: StatsType = StatsType.RUN_TIME): Fd {
  const call = new BpfCall(BpfCmd.ENABLE_STATS, bpfAttr.enableStats);
  call.u32("type", type);
  return new Fd(call.invoke("enable BPF stats (run time)"));
}
