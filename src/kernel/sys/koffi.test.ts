import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { koffi } from "./koffi.ts";

const require = createRequire(import.meta.url);

test("koffi's addon is opened directly on glibc Linux, and it is the addon koffi itself loads", (t) => {
  const platformPackage = `@koromix/koffi-${process.platform}-${process.arch}`;
  let installed = false;
  try {
    createRequire(require.resolve("koffi")).resolve(`${platformPackage}/package.json`);
    installed = true;
  } catch {}
  if (process.platform !== "linux" || existsSync("/lib/ld-musl-x86_64.so.1") || !installed) {
    t.skip(`not glibc Linux with ${platformPackage} installed`);
    return;
  }
  const viaEntry = require("koffi") as { default: unknown; version: string };
  // koffi's entry point exports an object around the addon (with `default`); the
  // addon itself has none: the short way was taken, and it is the same addon.
  assert.equal((koffi as unknown as { default?: unknown }).default, undefined);
  assert.equal(viaEntry.default, koffi);
  assert.equal(koffi.version, viaEntry.version);
});

test("koffi works: a libc call and errno", () => {
  const libc = koffi.load("libc.so.6");
  const getpid = libc.func("int getpid(void)") as () => number;
  assert.equal(getpid(), process.pid);
  const close = libc.func("int close(int fd)") as (fd: number) => number;
  assert.equal(close(-1), -1);
  assert.equal(koffi.errno(), 9); // EBADF
});
