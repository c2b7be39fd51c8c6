/**
 * BPF_BTF_LOAD for the BTF a program (or a probe's map) refers to.
 * @module
 */

import { BpfCmd, bpfAttr } from "../uapi/index.ts";
import { BpfCall, Fd, type OutBuffer, SyscallError } from "./sys/index.ts";

const LOG_SIZE = 64 * 1024;
const decoder = new TextDecoder();

function text(out: OutBuffer): string {
  const end = out.bytes.indexOf(0);
  return decoder.decode(out.bytes.subarray(0, end < 0 ? out.bytes.length : end)).trim();
}

/**
 * Loads a raw BTF blob (header, types, strings) into the kernel and returns its fd.
 * On failure the kernel's BTF log is loaded too and quoted in the error.
 * @param what names the blob in errors, e.g. `BTF of xdp program "count"`.
 * @throws SyscallError whose message ends with the kernel's BTF log.
 */
export function loadRawBtf(bytes: Uint8Array, what = "BTF"): Fd {
  const first = btfLoad(bytes, 0);
  if (first.fd >= 0) return new Fd(first.fd);
  const again = btfLoad(bytes, 1);
  if (again.fd >= 0) return new Fd(again.fd);
  throw new SyscallError(
    again.errno,
    `BTF load (${what})`,
    again.log ? `BTF log: ${again.log.split("\n").slice(-3).join(" | ")}` : undefined,
  );
}

function btfLoad(bytes: Uint8Array, level: number): { fd: number; errno: number; log: string } {
  const call = new BpfCall(BpfCmd.BTF_LOAD, bpfAttr.btfLoad);
  call.input("btf", bytes).u32("btf_size", bytes.length);
  let log: OutBuffer | undefined;
  if (level) {
    log = call.output("btf_log_buf", LOG_SIZE);
    call.u32("btf_log_level", level).u32("btf_log_size", LOG_SIZE);
  }
  try {
    return { fd: call.invoke("BTF load", { retryEagain: true }), errno: 0, log: "" };
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    return { fd: -1, errno: e.errno, log: log ? text(log) : "" };
  }
}
