/**
 * koffi, opened the short way. Every module of src/kernel/sys/ that calls native code
 * takes koffi from here.
 *
 * koffi's own entry point finds its native addon by probing: it reads Node's ELF
 * program headers to tell glibc from musl, tries its platform package, then its own
 * build directories. That is ~10 ms of JavaScript before a ~2 ms dlopen (measured on
 * this project's machine: `require("koffi")` 11–18 ms, the addon alone 1.4–2.2 ms), and
 * every CLI command and every user's first bpf(2) call pays it. Here the addon of
 * koffi's platform package for glibc Linux on this CPU is opened directly, resolved
 * from koffi's own location as koffi resolves it, when it is there and reports the
 * version koffi expects. Anything else (a musl system, another layout, another version)
 * goes through koffi's own loader, so the short way can only be faster, never wrong.
 * What the entry point adds to the addon (warnings for functions koffi deprecated)
 * tsbpf does not use.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import type KoffiModule from "koffi";

/** koffi's API: the addon's exports are what `import koffi from "koffi"` gives. */
export type Koffi = typeof KoffiModule;

const requireHere = createRequire(import.meta.url);

/** Whether this Linux runs on musl (Alpine): its dynamic loader is there. */
function muslLinux(): boolean {
  const arch = process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : "";
  return arch !== "" && existsSync(`/lib/ld-musl-${arch}.so.1`);
}

/** The addon from koffi's platform package, or undefined when it is not the one to use. */
function addonDirect(): Koffi | undefined {
  if (process.platform !== "linux" || muslLinux()) return undefined;
  try {
    const fromKoffi = createRequire(requireHere.resolve("koffi"));
    const { version } = fromKoffi("./package.json") as { version?: string };
    const triplet = `${process.platform}_${process.arch}`;
    const addon = fromKoffi(
      `@koromix/koffi-${process.platform}-${process.arch}/${triplet}/koffi.node`,
    ) as Koffi & { version?: string };
    return version !== undefined && addon.version === version ? addon : undefined;
  } catch {
    return undefined;
  }
}

/** koffi: its addon opened directly where that is safe, else through koffi's entry point. */
export const koffi: Koffi = addonDirect() ?? (requireHere("koffi") as Koffi);
