/**
 * `prog load ... type TYPE`: the program type (and expected attach type) a name
 * selects. bpftool accepts libbpf's ELF section names (`socket`, `xdp`, `classifier`,
 * `cgroup/skb`, `kprobe/...`), which src/elf reads from libbpf's table; tsbpf accepts
 * those and the kernel's type names (`socket_filter`, `sched_cls`, ...).
 */
import { programTypeForSection } from "../../elf/index.ts";
import { type AttachType, ProgType, progTypeName } from "../../uapi/index.ts";

/** What a `type` name selects. */
export interface ProgTypeChoice {
  readonly type: ProgType;
  readonly expectedAttachType: AttachType | undefined;
}

/**
 * The program type a section-style name (`xdp`, `cgroup/connect4`, `kprobe/do_exit`)
 * or kernel type name (`sched_cls`) selects, or undefined.
 */
export function progTypeByName(name: string): ProgTypeChoice | undefined {
  const bySection = programTypeForSection(name);
  if (bySection) return bySection;
  for (const t of Object.values(ProgType)) {
    if (t !== 0 && progTypeName(t) === name) return { type: t, expectedAttachType: undefined };
  }
  return undefined;
}
