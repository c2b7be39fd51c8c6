/**
 * The whole project typechecks (tsc --noEmit, strict) and passes Biome, as part of
 * `npm test`: tests run through tsx, which strips types without checking them, so a
 * type error in a test or a `@ts-expect-error` that no longer fires would otherwise
 * only show in `npm run typecheck`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { timeScale } from "./support/time.ts";

const ROOT = join(import.meta.dirname, "..");
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

// Typechecking is the same on every kernel: an emulated CPU (qemu's TCG, where it takes
// minutes) leaves it to the host's run.
const tscSkip =
  timeScale > 1 && `an emulated CPU (time scale ${timeScale}): the host's run typechecks`;

test("tsc --noEmit: no type errors anywhere in the project", { skip: tscSkip }, () => {
  // node runs tsc's script itself: no #!/usr/bin/env needed (the guests have none)
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json", "--noEmit"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `${r.error ?? ""}${r.stdout}${r.stderr}`);
});

// Biome is a native binary per platform: the qemu guests of scripts/test-kernels.mjs
// leave it out (97 MB, lint only), so there the check is skipped with the reason.
const biomeSkip = existsSync(bin("biome"))
  ? false
  : "Biome is not installed (node_modules/.bin/biome)";

test("biome check: lint and format clean", { skip: biomeSkip }, () => {
  const r = spawnSync(bin("biome"), ["check", "--error-on-warnings", "."], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`.slice(0, 4000));
});
