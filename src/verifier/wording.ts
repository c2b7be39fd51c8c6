/**
 * The kernel whose words tsbpf's error lines follow. The verifier decides as Linux 6.18
 * does; its messages are 6.18's unless `verify(..., { kernel })` names an older kernel
 * whose verifier words the same rejection differently. Each rule here was found by
 * test/verifier-wording-kernel, which the kernel matrix runs on 6.1 and 6.12.
 * @module
 */

/** The kernels whose wording tsbpf knows. */
export type KernelWording = "6.1" | "6.12" | "6.18";

/** The wording for a kernel release string (`uname -r`: "6.12.118+deb12-cloud-amd64"), if known. */
export function wordingFor(release: string): KernelWording | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return undefined;
  const v = `${m[1]}.${m[2]}`;
  return v === "6.1" || v === "6.12" || v === "6.18" ? v : undefined;
}

/** Whether `kernel` is 6.1 or 6.12 (wording some checks choose as they fail). */
export function olderThan618(kernel: KernelWording | undefined): boolean {
  return kernel === "6.1" || kernel === "6.12";
}

/** One difference: a 6.18 line matched by `from`, rewritten for older kernels. */
interface Rule {
  /** The kernels (older than 6.18) that word it this way. */
  readonly kernels: readonly KernelWording[];
  readonly from: RegExp;
  readonly to: string | ((...groups: string[]) => string);
}

const hexTnum = (n: string) => `(0x${BigInt.asUintN(64, BigInt(n)).toString(16)}; 0x0)`;

const RULES: readonly Rule[] = [
  // A memory argument: 6.1 accepts (and lists) fewer pointer types.
  {
    kernels: ["6.1"],
    from: /expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_$/,
    to: "expected=fp, pkt, pkt_meta, map_key, map_value",
  },
  // 6.1 prints a known variable offset as a tnum, 6.18 as its value.
  {
    kernels: ["6.1"],
    from: /^misaligned (packet access off 2\+|(?:\S+ )?access off )(-?\d+)\+/,
    to: (lead, n) => `misaligned ${lead}${hexTnum(n as string)}+`,
  },
  // 6.1 names ring buffer memory by how it was allocated.
  { kernels: ["6.1"], from: /ringbuf_mem/g, to: "alloc_mem" },
];

/** The error lines of a rejection as `kernel` words them (each rule in turn; 6.18's unchanged). */
export function reword(lines: readonly string[], kernel: KernelWording): string[] {
  if (kernel === "6.18") return [...lines];
  return lines.map((line) => {
    let out = line;
    for (const r of RULES) {
      if (!r.kernels.includes(kernel)) continue;
      const to = r.to;
      out =
        typeof to === "string"
          ? out.replace(r.from, to)
          : out.replace(r.from, (...a: string[]) => to(...a.slice(1)));
    }
    return out;
  });
}
