/**
 * BPF_PROG_TEST_RUN: run a loaded program on input the caller gives (a packet, a
 * context struct) and read what it returned and wrote.
 * @module
 */

import { BpfCmd, bpfAttr, Errno } from "../../uapi/index.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import { BpfCall, SyscallError } from "../sys/index.ts";

/** Room the output buffer has beyond the input, for programs that grow the packet. */
export const DATA_OUT_HEADROOM = 256;

/**
 * The output buffer of a first try when the caller asked for more: 1 MiB, above what
 * the kernel writes for any program type (a page of linear data, ~64 KiB with XDP
 * fragments, 64 KiB of syscall context).
 */
const OUT_FIRST_TRY = 1 << 20;

/** Sizes and counts are u32 attribute fields. */
function checkSize(what: string, v: number | undefined): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`test run: ${what} ${v} is not a u32 (0 to 4294967295)`);
  }
}

/** Input of one BPF_PROG_TEST_RUN. */
export interface RunOptions {
  /** `data_in`: the packet (skb and XDP programs need at least an Ethernet header, 14 bytes). */
  readonly data?: Uint8Array;
  /** Size of the `data_out` buffer (default: the input's size + 256 bytes). */
  readonly dataOutSize?: number;
  /** `ctx_in`: the context struct (`__sk_buff`, `xdp_md`, a raw tracepoint's args...). */
  readonly ctx?: Uint8Array;
  /** Size of the `ctx_out` buffer (default: the size of `ctx`, none without it). */
  readonly ctxOutSize?: number;
  /** Runs in a row; `duration` is the mean (default 1). */
  readonly repeat?: number;
  /** `TestRunFlags` (RUN_ON_CPU, XDP_LIVE_FRAMES, SKB_CHECKSUM_COMPLETE). */
  readonly flags?: number;
  /** The CPU to run on, with `TestRunFlags.RUN_ON_CPU`. */
  readonly cpu?: number;
  /** Frames per batch with `TestRunFlags.XDP_LIVE_FRAMES`. */
  readonly batchSize?: number;
}

/** What one BPF_PROG_TEST_RUN gave back. */
export interface RunResult {
  /** The program's return value (`__u32`, as the kernel reports it). */
  readonly retval: number;
  /** Nanoseconds per run, averaged over `repeat` runs, as the kernel measured it. */
  readonly duration: number;
  /**
   * The packet after the program ran (empty without `data`). For program types that
   * see the packet from layer 3 (socket_filter, cgroup_skb, lwt_*), the kernel zeroes
   * the 14-byte Ethernet header of the output.
   */
  readonly dataOut: Uint8Array;
  /** The context after the run, when a `ctx` (or `ctxOutSize`) was given. */
  readonly ctxOut: Uint8Array | undefined;
}

/**
 * Runs the program behind `progFd` once (or `repeat` times).
 * @param label names the program in errors, e.g. `xdp program "pass"`.
 * @param typeName the program type's name, for the not-supported message.
 * @throws NotSupportedError when the kernel cannot test-run this program type (ENOTSUPP).
 * @throws SyscallError for other failures, with a hint for EINVAL.
 */
export function testRunProgram(
  progFd: number,
  label: string,
  typeName: string,
  opts: RunOptions = {},
): RunResult {
  const data = opts.data;
  checkSize("dataOutSize", opts.dataOutSize);
  checkSize("ctxOutSize", opts.ctxOutSize);
  checkSize("repeat", opts.repeat);
  // The output buffers are sized for what the kernel can write, not for what was asked:
  // it writes min(asked, produced) and answers ENOSPC with the size it needed when the
  // buffer is short, which the retry below allocates. So `data_size_out 4294967295`
  // costs a first try of OUT_FIRST_TRY bytes, not 4 GiB.
  const firstTry = (asked: number, input: number): number =>
    Math.min(asked, Math.max(input + DATA_OUT_HEADROOM, OUT_FIRST_TRY));
  let dataOutSize =
    opts.dataOutSize !== undefined
      ? firstTry(opts.dataOutSize, data?.length ?? 0)
      : data
        ? data.length + DATA_OUT_HEADROOM
        : 0;
  // raw_tp test runs refuse ctx_out (and repeat, which therefore defaults to 0: the
  // kernel treats 0 as 1 for the types that loop).
  let ctxOutSize =
    opts.ctxOutSize !== undefined
      ? firstTry(opts.ctxOutSize, opts.ctx?.length ?? 0)
      : typeName === "raw_tracepoint"
        ? 0
        : (opts.ctx?.length ?? 0);
  for (let tries = 0; ; tries++) {
    const call = new BpfCall(BpfCmd.PROG_TEST_RUN, bpfAttr.test);
    call.u32("prog_fd", progFd).u32("repeat", opts.repeat ?? 0);
    if (data && data.length > 0) call.input("data_in", data).u32("data_size_in", data.length);
    const dataOut = dataOutSize > 0 ? call.output("data_out", dataOutSize) : undefined;
    if (dataOut) call.u32("data_size_out", dataOutSize);
    if (opts.ctx && opts.ctx.length > 0) {
      call.input("ctx_in", opts.ctx).u32("ctx_size_in", opts.ctx.length);
    }
    const ctxOut = ctxOutSize > 0 ? call.output("ctx_out", ctxOutSize) : undefined;
    if (ctxOut) call.u32("ctx_size_out", ctxOutSize);
    if (opts.flags) call.u32("flags", opts.flags);
    if (opts.cpu !== undefined) call.u32("cpu", opts.cpu);
    if (opts.batchSize !== undefined) call.u32("batch_size", opts.batchSize);
    try {
      call.invoke(`test run (${label})`);
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      if (e.errno === Errno.ENOSPC && tries === 0) {
        // An output buffer was too small: the kernel says how much it needed.
        dataOutSize = Math.max(dataOutSize, call.get("data_size_out"));
        ctxOutSize = Math.max(ctxOutSize, call.get("ctx_size_out"));
        continue;
      }
      if (e.errno === Errno.ENOTSUPP) {
        throw new NotSupportedError(
          `test run of ${typeName} programs`,
          `test run is not supported for program type ${typeName} on this kernel (BPF_PROG_TEST_RUN answered ENOTSUPP)`,
          e.errno,
        );
      }
      if (e.errno === Errno.EINVAL) {
        throw new SyscallError(
          e.errno,
          `test run (${label})`,
          `${typeName} programs take ${expectations(typeName)}; got ${data?.length ?? 0} bytes of data, ${opts.ctx?.length ?? 0} bytes of ctx`,
        );
      }
      throw e;
    }
    const outLen = dataOut ? Math.min(call.get("data_size_out"), dataOutSize) : 0;
    const ctxLen = ctxOut ? Math.min(call.get("ctx_size_out"), ctxOutSize) : 0;
    return {
      retval: call.get("retval"),
      duration: call.get("duration"),
      dataOut: dataOut ? dataOut.bytes.slice(0, outLen) : new Uint8Array(0),
      ctxOut: ctxOut ? ctxOut.bytes.slice(0, ctxLen) : undefined,
    };
  }
}

/** What BPF_PROG_TEST_RUN wants for a program type, for EINVAL messages. */
function expectations(typeName: string): string {
  switch (typeName) {
    case "xdp":
      return "a packet of at least 14 bytes and, optionally, an xdp_md ctx (24 bytes) with data/data_end 0";
    case "socket_filter":
    case "sched_cls":
    case "sched_act":
    case "cgroup_skb":
    case "lwt_in":
    case "lwt_out":
    case "lwt_xmit":
    case "lwt_seg6local":
      return "a packet of at least 14 bytes (an Ethernet header) and, optionally, a __sk_buff ctx whose fields other than the writable ones are zero";
    case "raw_tracepoint":
      return "no data, a ctx of the tracepoint's u64 arguments";
    case "syscall":
      return "no data, a ctx of up to 4096 bytes";
    default:
      return "the input this program type's test runner expects";
  }
}
