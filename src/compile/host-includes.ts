/**
 * The include paths and defines a BPF compile needs on this host, which the obvious
 * `clang -target bpf -c x.bpf.c` lacks:
 *
 * - `/usr/include/<multiarch>` (Debian's layout): `<linux/types.h>` includes
 *   `<asm/types.h>`, which lives there, and `-target bpf` does not search it;
 * - `__TARGET_ARCH_<arch>`: bpf_tracing.h picks the `struct pt_regs` layout of
 *   kprobe arguments (`PT_REGS_PARM1`, `BPF_KPROBE`) from it;
 * - libbpf's headers (bpf_helpers.h...) shipped in vendor/libbpf/include, searched
 *   after the system's so an installed libbpf-dev wins.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Node's `process.arch` to Debian's multiarch tuple and the kernel's arch name. */
const ARCHES: Record<string, { multiarch: string; kernel: string }> = {
  x64: { multiarch: "x86_64-linux-gnu", kernel: "x86" },
  ia32: { multiarch: "i386-linux-gnu", kernel: "x86" },
  arm64: { multiarch: "aarch64-linux-gnu", kernel: "arm64" },
  arm: { multiarch: "arm-linux-gnueabihf", kernel: "arm" },
  s390x: { multiarch: "s390x-linux-gnu", kernel: "s390" },
  ppc64: { multiarch: "powerpc64le-linux-gnu", kernel: "powerpc" },
  riscv64: { multiarch: "riscv64-linux-gnu", kernel: "riscv" },
  loong64: { multiarch: "loongarch64-linux-gnu", kernel: "loongarch" },
  mips64el: { multiarch: "mips64el-linux-gnuabi64", kernel: "mips" },
};

/** The compiler arguments for this host's headers, in the order clang should see them. */
export interface HostIncludes {
  /** `-D__TARGET_ARCH_x86`, or none on an architecture tsbpf does not know. */
  readonly defines: readonly string[];
  /** Directories for `-idirafter`: the multiarch one when it exists, then libbpf's copy. */
  readonly after: readonly string[];
}

/** The host's include arguments (see the module's comment). */
export function hostIncludes(arch: string = process.arch): HostIncludes {
  const a = ARCHES[arch];
  const after: string[] = [];
  if (a && existsSync(join("/usr/include", a.multiarch, "asm"))) {
    after.push(join("/usr/include", a.multiarch));
  }
  const vendored = vendoredLibbpfIncludes();
  if (vendored) after.push(vendored);
  return { defines: a ? [`-D__TARGET_ARCH_${a.kernel}`] : [], after };
}

let vendorDir: string | null | undefined;

/**
 * vendor/libbpf/include of the tsbpf package, found from this module wherever it runs
 * (src/compile under tsx, dist/compile when built, a chunk of the bundled CLI).
 */
export function vendoredLibbpfIncludes(): string | undefined {
  if (vendorDir === undefined) {
    vendorDir = null;
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 6; i++) {
      const candidate = join(dir, "vendor", "libbpf", "include");
      if (existsSync(join(candidate, "bpf", "bpf_helpers.h"))) {
        vendorDir = candidate;
        break;
      }
      dir = dirname(dir);
    }
  }
  return vendorDir ?? undefined;
}
