/** mount(2), for the pseudo filesystems tsbpf needs (bpffs, tracefs). */
import { allocNative, freeNative, lastErrno, syscall5 } from "./native.ts";
import { syscallNumber } from "./numbers.ts";

const encoder = new TextEncoder();

/**
 * Mounts `fstype` from `source` at `target` with no flags or data. Returns 0, or the
 * errno when the kernel refuses (EPERM without CAP_SYS_ADMIN, ENODEV for an unknown
 * filesystem type...).
 */
export function mountFs(source: string, target: string, fstype: string): number {
  const mems = [source, target, fstype].map((s) => {
    const bytes = encoder.encode(s);
    const mem = allocNative(bytes.length + 1);
    mem.bytes.set(bytes);
    return mem;
  });
  try {
    const [src, dst, type] = mems.map((m) => m.address) as [bigint, bigint, bigint];
    const r = syscall5(syscallNumber("mount"), src, dst, type, 0, 0);
    return r < 0 ? lastErrno() : 0;
  } finally {
    for (const m of mems) freeNative(m);
  }
}
