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

/** One difference: a 6.18 line matched by `from`, rewritten for older kernels. */
interface Rule {
  /** The kernels (older than 6.18) that word it this way. */
  readonly kernels: readonly KernelWording[];
  readonly from: RegExp;
  readonly to: string | ((...groups: string[]) => string);
}

const RULES: readonly Rule[] = [];

/** The error lines of a rejection as `kernel` words them (6.18's unchanged). */
export function reword(lines: readonly string[], kernel: KernelWording): string[] {
  if (kernel === "6.18") return [...lines];
  return lines.map((line) => {
    for (const r of RULES) {
      if (!r.kernels.includes(kernel) || !r.from.test(line)) continue;
      return typeof r.to === "string"
        ? line.replace(r.from, r.to)
        : line.replace(r.from, (...a) => (r.to as (...g: string[]) => string)(...a.slice(1)));
    }
    return line;
  });
}
