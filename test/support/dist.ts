/**
 * Whether the built package (dist/, `npm run build`) is there and newer than the
 * sources it is built from: tests of the built package skip with a reason otherwise.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dirname, "../..");

/** The newest modification time of the non-test .ts files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) {
      newest = Math.max(newest, statSync(p).mtimeMs);
    }
  }
  return newest;
}

/**
 * A skip reason when any of `files` (absolute paths of built files) is missing or older
 * than a source under src/ (or, with `examples`, under examples/ too); false when fresh.
 */
export function distSkip(
  files: readonly string[],
  opts: { examples?: boolean } = {},
): string | false {
  const missing = files.find((f) => !existsSync(f));
  if (missing) return `dist/ is not built (${relative(ROOT, missing)}): run npm run build`;
  const oldest = Math.min(...files.map((f) => statSync(f).mtimeMs));
  const dirs = opts.examples ? ["src", "examples"] : ["src"];
  const stale = dirs.find((d) => oldest < newestSource(join(ROOT, d)));
  return stale ? `dist/ is older than ${stale}/: run npm run build` : false;
}
