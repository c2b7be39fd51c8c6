/**
 * BPF_OBJ_GET_INFO_BY_FD for every kind of object: maps, programs, links and BTF all
 * answer with a struct whose layout is generated in uapi/ (`bpfMapInfo`,
 * `bpfProgInfo`, `bpfLinkInfo`, `bpfBtfInfo`).
 *
 * @module
 */

import { BpfCmd, bpfAttr, type StructLayout } from "../../uapi/index.ts";
import { allocNative, BpfCall, freeNative, type NativeMemory } from "../sys/index.ts";

/**
 * Lets a caller of {@link objInfoByFd} fill in the request before the call: array
 * lengths (`nr_map_ids`, `xlated_prog_len`, ...) and the buffers the kernel writes
 * arrays into.
 */
export interface InfoRequest {
  /** Sets integer field `field` of the info struct sent to the kernel. */
  set(field: string, value: number | bigint): void;
  /**
   * Gives pointer field `field` a buffer of `size` bytes for the kernel to fill; the
   * returned array holds what the kernel wrote once {@link objInfoByFd} returns.
   */
  output(field: string, size: number): Uint8Array;
}

/**
 * Asks the kernel for the info struct of the object behind `fd`, laid out by `layout`.
 * Fields this kernel does not know stay zero. `extra` may set input fields and attach
 * output buffers (see {@link InfoRequest}).
 *
 * @throws SyscallError naming the fd, e.g. "object info (fd 7): Bad file descriptor".
 * @example
 * ```ts
 * const view = objInfoByFd(map.fd, bpfMapInfo);
 * const id = view.getUint32(bpfMapInfo.fields.id.offset, true);
 * ```
 */
export function objInfoByFd(
  fd: number,
  layout: StructLayout,
  extra?: (req: InfoRequest) => void,
): DataView {
  const info = new Uint8Array(layout.size);
  const view = new DataView(info.buffer);
  const outputs: { mem: NativeMemory; out: Uint8Array }[] = [];
  const field = (name: string) => {
    const f = layout.fields[name];
    if (!f) throw new Error(`internal: info struct has no field ${name}`);
    return f;
  };
  const set = (name: string, value: number | bigint) => {
    const f = field(name);
    if (f.size === 8) view.setBigUint64(f.offset, BigInt.asUintN(64, BigInt(value)), true);
    else if (f.size === 4) view.setUint32(f.offset, Number(value) >>> 0, true);
    else if (f.size === 2) view.setUint16(f.offset, Number(value), true);
    else if (f.size === 1) view.setUint8(f.offset, Number(value));
    else throw new Error(`internal: info field ${name} is ${f.size} bytes, not an integer`);
  };
  try {
    extra?.({
      set,
      output(name, size) {
        const mem = allocNative(size);
        const out = new Uint8Array(size);
        outputs.push({ mem, out });
        set(name, size === 0 ? 0n : mem.address);
        return out;
      },
    });
    const call = new BpfCall(BpfCmd.OBJ_GET_INFO_BY_FD, bpfAttr.info);
    call.u32("bpf_fd", fd).u32("info_len", layout.size);
    const buf = call.inout("info", info);
    call.invoke(`object info (fd ${fd})`);
    info.set(buf.bytes);
    for (const { mem, out } of outputs) out.set(mem.bytes);
    return view;
  } finally {
    for (const { mem } of outputs) freeNative(mem);
  }
}
