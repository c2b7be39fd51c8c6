/**
 * include/tsbpf/tsbpf_log.h as C users meet it: compiled by clang-19 with only
 * bpf_helpers.h beside it, a call with too many arguments or a format that is not a
 * literal fails at compile time with a message, TSBPF_LOG_NO_SHORT_NAMES leaves
 * `log_info` to the program, and the call sites a program compiles to are the ones the
 * reader finds.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { readLogSites } from "../src/spec/index.ts";
import { toolSkip } from "./support/kernel.ts";

const INCLUDE = join(import.meta.dirname, "../include");
const skip = toolSkip("clang-19");

/**
 * Compiles `body` (a program's statements), with `before` ahead of tsbpf_log.h and
 * `after` behind it: clang's status, stderr and object.
 */
function compile(
  body: string,
  before = "",
  after = "",
): { status: number | null; stderr: string; obj?: Uint8Array } {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-log-h-"));
  try {
    const src = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
${before}
#include <tsbpf/tsbpf_log.h>
${after}
SEC("xdp")
int prog(struct xdp_md *ctx)
{
${body}
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`;
    writeFileSync(join(dir, "t.bpf.c"), src);
    const r = spawnSync(
      "clang-19",
      [
        "-g",
        "-O2",
        "-target",
        "bpf",
        "-I/usr/include/x86_64-linux-gnu",
        `-I${INCLUDE}`,
        "-c",
        "t.bpf.c",
        "-o",
        "t.bpf.o",
      ],
      { cwd: dir, encoding: "utf8" },
    );
    return {
      status: r.status,
      stderr: r.stderr,
      ...(r.status === 0 && { obj: new Uint8Array(readFileSync(join(dir, "t.bpf.o"))) }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("tsbpf_log.h: the sites a program compiles to are read back with their levels and types", {
  skip,
}, () => {
  const r = compile(`	int a = 1; long b = 2; unsigned short c = 3;
	log_error(ctx, "e");
	tsbpf_log_warn(ctx, "w %d %ld %hu", a, b, c);
	log_info(ctx, "i %p %s", ctx, "lit");`);
  assert.equal(r.status, 0, r.stderr);
  const sites = [...readLogSites(loadCollectionSpec(r.obj!)).values()];
  assert.deepEqual(
    sites.map((s) => [s.id, s.level, s.target, s.format, s.types.join(",")]),
    [
      [0, 1, "prog", "e", ""],
      [1, 2, "prog", "w %d %ld %hu", "s32,s64,u16"],
      [2, 3, "prog", "i %p %s", "ptr,kstr"],
    ],
  );
});

test("tsbpf_log.h: nine arguments or a format that is not a literal do not compile", {
  skip,
}, () => {
  const nine = compile(`	log_info(ctx, "%d%d%d%d%d%d%d%d%d", 1, 2, 3, 4, 5, 6, 7, 8, 9);`);
  assert.notEqual(nine.status, 0);
  assert.match(nine.stderr, /tsbpf_log: at most 8 arguments/);
  const fmt = compile(`	const char *f = "x"; log_info(ctx, f);`);
  assert.notEqual(fmt.status, 0);
  assert.match(fmt.stderr, /error:/);
});

test("tsbpf_log.h: TSBPF_LOG_NO_SHORT_NAMES leaves log_info to the program", { skip }, () => {
  // A program's own log_info, defined after the include.
  const own = "static __always_inline int log_info(int x) { return x; }";
  const body = `	tsbpf_log_info(ctx, "x=%d", log_info(7));`;
  const r = compile(body, "#define TSBPF_LOG_NO_SHORT_NAMES", own);
  assert.equal(r.status, 0, r.stderr);
  assert.notEqual(compile(body, "", own).status, 0, "without it, log_info is the header's macro");
});
