/**
 * The committed x86-64 syscall table is what scripts/gen-syscall-names.ts makes of
 * this machine's asm/unistd_64.h, and the generator refuses headers it cannot use.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import {
  DEFAULT_HEADER,
  OUTPUT_PATH,
  parseUnistd,
  syscallNamesSource,
} from "../scripts/gen-syscall-names.ts";
import { SYSCALL_NAMES_X86_64 } from "../src/cli/trace/syscall-names-x86_64.generated.ts";

const ROOT = resolve(import.meta.dirname, "..");

test("the committed table is the generator's output for this machine's header", {
  skip: existsSync(DEFAULT_HEADER) ? false : `no ${DEFAULT_HEADER} (linux-libc-dev)`,
}, () => {
  const want = syscallNamesSource(readFileSync(DEFAULT_HEADER, "utf8"));
  assert.equal(
    readFileSync(join(ROOT, OUTPUT_PATH), "utf8"),
    want,
    "run: node --import tsx scripts/gen-syscall-names.ts",
  );
});

test("the table holds the numbers every x86-64 kernel agrees on", () => {
  assert.equal(SYSCALL_NAMES_X86_64.get(0), "read");
  assert.equal(SYSCALL_NAMES_X86_64.get(39), "getpid");
  assert.equal(SYSCALL_NAMES_X86_64.get(59), "execve");
  assert.equal(SYSCALL_NAMES_X86_64.get(321), "bpf");
});

test("parseUnistd: a header without defines, or with a number twice, is refused", () => {
  assert.throws(() => parseUnistd("#ifndef X\n#endif\n"), /no '#define __NR_name number' lines/);
  assert.throws(
    () => parseUnistd("#define __NR_a 1\n#define __NR_b 1\n"),
    /syscall 1 defined twice: a and b/,
  );
  assert.deepEqual(
    [...parseUnistd("#define __NR_read 0\n#define __NR_write 1\n")],
    [
      [0, "read"],
      [1, "write"],
    ],
  );
});
