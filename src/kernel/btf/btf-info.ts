/**
 * `struct bpf_btf_info`, decoded, and the raw bytes of a BTF object the kernel holds
 * (for `btf list` and `btf dump id N`).
 * @module
 */

import { bpfBtfInfo } from "../../uapi/index.ts";
import { objInfoByFd } from "../objects/obj-info.ts";
import { objectFdById } from "../objects/objects.ts";

/** What the kernel tells about one BTF object. */
export interface BtfInfo {
  readonly id: number;
  /** "vmlinux", a module's name, or "" for BTF a program loader brought. */
  readonly name: string;
  /** Size of the raw BTF in bytes. */
  readonly size: number;
  /** True for the kernel's own BTF (vmlinux and modules). */
  readonly kernelBtf: boolean;
  /** The raw BTF, when asked for. */
  readonly bytes?: Uint8Array;
}

const F = bpfBtfInfo.fields;
/** Longest name asked for (module names are at most 56 bytes). */
const NAME_MAX = 64;

/**
 * Reads the info of the BTF object behind `fd`; with `withBytes`, its raw BTF too.
 * @throws SyscallError when `fd` is not a BTF object.
 */
export function btfInfoByFd(fd: number, opts: { withBytes?: boolean } = {}): BtfInfo {
  let size = 0;
  if (opts.withBytes) size = objInfoByFd(fd, bpfBtfInfo).getUint32(F.btf_size.offset, true);
  let name: Uint8Array = new Uint8Array(0);
  let bytes: Uint8Array = new Uint8Array(0);
  const info = objInfoByFd(fd, bpfBtfInfo, (req) => {
    req.set("name_len", NAME_MAX);
    name = req.output("name", NAME_MAX);
    if (size > 0) {
      req.set("btf_size", size);
      bytes = req.output("btf", size);
    }
  });
  const nul = name.indexOf(0);
  const result: BtfInfo = {
    id: info.getUint32(F.id.offset, true),
    name: new TextDecoder().decode(name.subarray(0, nul < 0 ? name.length : nul)),
    size: info.getUint32(F.btf_size.offset, true),
    kernelBtf: info.getUint32(F.kernel_btf.offset, true) !== 0,
  };
  return opts.withBytes ? { ...result, bytes } : result;
}

/**
 * Reads the info of the BTF object with `id`; undefined when there is none.
 * @throws SyscallError for failures other than "no such id" (EPERM without root).
 */
export function btfInfoById(id: number, opts: { withBytes?: boolean } = {}): BtfInfo | undefined {
  const fd = objectFdById("btf", id);
  if (!fd) return undefined;
  try {
    return btfInfoByFd(fd.value, opts);
  } finally {
    fd.close();
  }
}

/** The raw BTF of the object with `id`, or undefined when there is none. */
export function btfBytesById(id: number): Uint8Array | undefined {
  return btfInfoById(id, { withBytes: true })?.bytes;
}
