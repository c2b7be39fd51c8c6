/**
 * Running npm and node in a temporary project, as a user of the packed package would:
 * the tarball `npm pack` makes of this repository, commands with a clean environment,
 * and how to tell "npm cannot reach the registry nor its cache" from a real failure.
 */
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../..");

/**
 * npm's and node's environment: no inherited NODE_OPTIONS (a test runner's conditions)
 * nor NODE_TEST_CONTEXT (with it, a `node --test` inside reports to this runner, not as TAP).
 */
const { NODE_TEST_CONTEXT: _, ...inherited } = process.env;
export const NPM_ENV = {
  ...inherited,
  NODE_OPTIONS: "",
  npm_config_update_notifier: "false",
  npm_config_fund: "false",
  npm_config_audit: "false",
};

/** Errors npm gives when neither the registry nor its cache can serve a package. */
export const NO_REGISTRY = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|ENOTCACHED/;

/** Runs `cmd args` in `cwd` with {@link NPM_ENV}, for at most two minutes. */
export function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: NPM_ENV, encoding: "utf8", timeout: 120_000 });
}

/** The output of a command that must succeed, or a failure with its stdout and stderr. */
export function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `npm pack` of this repository (built: dist/) into `dir`; the tarball's path. */
export function packTsbpf(dir: string): string {
  const packed = ok(
    run("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], ROOT),
    "npm pack",
  );
  return join(dir, packed.trim().split("\n").at(-1)!);
}
