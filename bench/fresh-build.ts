/**
 * The benches that time what users run (the CLI bin, the package's compiled modules)
 * need dist/ built from today's src/: {@link ensureFreshBuild} runs `npm run build`
 * when dist/ is missing or older than any file under src/, and fails if the build does.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

/** The repository's root. */
export const ROOT = resolve(import.meta.dirname, "..");
/** The built CLI bin (the launcher of the bundle). */
export const BIN = join(ROOT, "dist/cli/tsbpf.cjs");

/** Newest modification time (ms) of the files under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build` when dist/cli/tsbpf.cjs is missing or older than src/. */
export function ensureFreshBuild(who: string): void {
  const built = existsSync(BIN) ? statSync(BIN).mtimeMs : 0;
  const source = newestMtime(join(ROOT, "src"));
  if (built >= source) return;
  process.stderr.write(
    `${who}: ${built === 0 ? "no build" : "dist/ is older than src/"}: npm run build\n`,
  );
  const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < source) {
    throw new Error(`npm run build did not refresh ${BIN}:\n${r.stdout}${r.stderr}`);
  }
}
