/**
 * Contexts of the tracing program types, which BPF_PROG_TEST_RUN cannot build (the
 * kernel answers ENOTSUPP for tracepoint, kprobe and perf_event) — what the VM gives
 * each program as r1:
 *
 * - **tracepoint**: the raw record, bytes as the caller passes them (`ctx`, or `data`
 *   for a tracepoint): the 8-byte common header (`common_type` u16, `common_flags` u8,
 *   `common_preempt_count` u8, `common_pid` s32) then the event's fields at the
 *   offsets of its tracefs `format` file;
 * - **raw_tracepoint**: the `u64` arguments (`struct bpf_raw_tracepoint_args`), as
 *   the kernel's test run takes them in `ctx_in` (no `ctx_out`: the result's `ctxOut`
 *   is undefined, as the kernel's);
 * - **kprobe**: `struct pt_regs` of x86-64 ({@link PT_REGS_X86_64}, 168 bytes) —
 *   build one with {@link ptRegs};
 * - **perf_event**: `struct bpf_perf_event_data` (regs, then `sample_period` at 168 and
 *   `addr` at 176: {@link PERF_EVENT_DATA}) — build one with {@link perfEventData}.
 *
 * Every context is read-write memory of exactly the bytes given; an access past them
 * faults with a VmError naming the context.
 *
 * Pure: no `node:` imports.
 * @module
 */

/**
 * Byte offsets of x86-64's `struct pt_regs` (arch/x86/include/asm/ptrace.h, the layout
 * `bpf_user_pt_regs_t` is on x86-64), 8 bytes each. PT_REGS_PARM1..5 are rdi, rsi,
 * rdx, rcx, r8; PT_REGS_RC is rax; PT_REGS_IP rip; PT_REGS_SP rsp.
 */
export const PT_REGS_X86_64 = {
  r15: 0,
  r14: 8,
  r13: 16,
  r12: 24,
  rbp: 32,
  rbx: 40,
  r11: 48,
  r10: 56,
  r9: 64,
  r8: 72,
  rax: 80,
  rcx: 88,
  rdx: 96,
  rsi: 104,
  rdi: 112,
  orig_rax: 120,
  rip: 128,
  cs: 136,
  eflags: 144,
  rsp: 152,
  ss: 160,
} as const;

/** Size of x86-64's `struct pt_regs`. */
export const PT_REGS_SIZE = 168;

/** A register of x86-64's `struct pt_regs`. */
export type PtRegName = keyof typeof PT_REGS_X86_64;

/** Offsets of `struct bpf_perf_event_data` on x86-64. */
export const PERF_EVENT_DATA = {
  regs: 0,
  sample_period: PT_REGS_SIZE,
  addr: PT_REGS_SIZE + 8,
  size: PT_REGS_SIZE + 16,
} as const;

/**
 * An x86-64 `struct pt_regs` with the given registers (others 0), for kprobe programs.
 *
 * @example
 * ```ts
 * prog.run({ ctx: ptRegs({ rdi: 3n, rsi: 0x1000n }) }); // PT_REGS_PARM1 = 3, PARM2 = 0x1000
 * ```
 */
export function ptRegs(regs: Partial<Record<PtRegName, bigint>>): Uint8Array {
  const out = new Uint8Array(PT_REGS_SIZE);
  const v = new DataView(out.buffer);
  for (const [name, value] of Object.entries(regs))
    v.setBigUint64(PT_REGS_X86_64[name as PtRegName], BigInt.asUintN(64, value), true);
  return out;
}

/**
 * A `struct bpf_perf_event_data` for perf_event programs: registers, sample period and
 * address.
 */
export function perfEventData(opts: {
  readonly regs?: Partial<Record<PtRegName, bigint>>;
  readonly samplePeriod?: bigint;
  readonly addr?: bigint;
}): Uint8Array {
  const out = new Uint8Array(PERF_EVENT_DATA.size);
  out.set(ptRegs(opts.regs ?? {}));
  const v = new DataView(out.buffer);
  v.setBigUint64(PERF_EVENT_DATA.sample_period, BigInt.asUintN(64, opts.samplePeriod ?? 0n), true);
  v.setBigUint64(PERF_EVENT_DATA.addr, BigInt.asUintN(64, opts.addr ?? 0n), true);
  return out;
}
