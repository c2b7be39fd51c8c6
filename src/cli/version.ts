/**
 * `tsbpf version` (and `-V`): tsbpf's version, the runtime, and the features of this
 * build, in bpftool's layout:
 *
 * ```
 * tsbpf v0.1.0
 * using node v20.20.2
 * features: kernel, isa, elf, vm
 * ```
 *
 * JSON: `{"version":"0.1.0","node_version":"20.20.2","features":{"kernel":true,...}}`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Args } from "./args.ts";
import type { Context } from "./command.ts";
import { packageRoot } from "./package-files.ts";

/** What this build of tsbpf can do; `false` features are listed in JSON only. */
export interface VersionInfo {
  readonly version: string;
  readonly nodeVersion: string;
  readonly features: Readonly<Record<string, boolean>>;
}

/** tsbpf's version from its package.json. */
export function packageVersion(): string {
  try {
    const root = packageRoot();
    if (root === undefined) return "unknown";
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

/** The version record `tsbpf version` prints. */
export function versionInfo(): VersionInfo {
  return {
    version: packageVersion(),
    nodeVersion: process.versions.node,
    features: {
      // bpf(2) through the kernel backend: Linux on x86-64 or arm64.
      kernel: process.platform === "linux" && ["x64", "arm64"].includes(process.arch),
      // assembler and disassembler of src/isa
      isa: true,
      // ELF objects, BTF and CO-RE (prog load/loadall of .o files, btf dump, gen types)
      elf: true,
      // the userspace VM (tsbpf vm ...)
      vm: true,
      // JITed instruction dumps need a disassembler for the host ISA
      jited_dump: false,
    },
  };
}

/** Plain text in bpftool's layout. */
export function formatVersionPlain(bin: string, v: VersionInfo): string {
  const on = Object.entries(v.features)
    .filter(([, enabled]) => enabled)
    .map(([name]) => name);
  return `${bin} v${v.version}\nusing node v${v.nodeVersion}\nfeatures:${on.length ? ` ${on.join(", ")}` : ""}\n`;
}

/** JSON in bpftool's shape (`libbpf_version` becomes `node_version`). */
export function formatVersionJson(v: VersionInfo) {
  return { version: v.version, node_version: v.nodeVersion, features: { ...v.features } };
}

/** `tsbpf version`. Extra words are ignored, as bpftool ignores them. */
export async function run(ctx: Context, _args: Args): Promise<void> {
  const v = versionInfo();
  if (ctx.out.json) ctx.out.value(formatVersionJson(v));
  else ctx.out.write(formatVersionPlain(ctx.bin, v));
}
