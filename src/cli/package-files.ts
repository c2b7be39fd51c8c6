/**
 * Files of the tsbpf package the CLI reads at run time (package.json, the trace tools'
 * BPF objects), found from the running module wherever it sits: src/cli/ under tsx,
 * dist/cli/ as tsc built it, or the bundled CLI (dist/cli/bundle/main.cjs, see
 * scripts/bundle-cli.mjs), whose modules no longer sit at their source's relative paths.
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The package's root: the nearest directory above this module with tsbpf's package.json. */
export function packageRoot(): string | undefined {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      try {
        if (JSON.parse(readFileSync(file, "utf8")).name === "tsbpf") {
          root = dir;
          return root;
        }
      } catch {
        // Not ours (or unreadable): keep looking above.
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/**
 * The path of a file of the CLI's sources, `rel` from src/cli/ (e.g. "trace/bpf/x.bpf.o"):
 * under dist/cli/ when this module was built, else under src/cli/.
 */
export function cliFile(rel: string): string {
  const here = fileURLToPath(import.meta.url);
  const base = packageRoot() ?? join(dirname(here), "..", "..");
  return join(base, here.endsWith(".ts") ? "src" : "dist", "cli", rel);
}
