/**
 * include/tsbpf/sock_events.h, the inet_sock_set_state record the TCP tools and the
 * tcp-connect-exporter example share: its layout is the running kernel's tracefs
 * format, and it compiles beside the libc/uapi headers and beside vmlinux.h's enums.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { canTrace } from "../src/cli/trace/trace-session.ts";
import { readTracepointFormat } from "../src/kernel/links/tracepoint-format.ts";
import { toolSkip } from "./support/kernel.ts";

const INCLUDE = join(import.meta.dirname, "../include");

/** The header's offsets, as its _Static_asserts pin them. */
const OFFSETS = {
  skaddr: 8,
  oldstate: 16,
  newstate: 20,
  sport: 24,
  dport: 26,
  family: 28,
  protocol: 30,
  saddr: 32,
  daddr: 36,
  saddr_v6: 40,
  daddr_v6: 56,
} as const;

test("sock_events.h: each field where this kernel's inet_sock_set_state format puts it", {
  skip: !canTrace() && "tracefs is root's",
}, () => {
  const fields = readTracepointFormat("sock", "inet_sock_set_state");
  for (const [name, offset] of Object.entries(OFFSETS)) {
    assert.equal(fields.find((f) => f.name === name)?.offset, offset, name);
  }
});

/** clang's status and stderr for a program with `prelude` ahead of the header. */
function compile(prelude: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-sock-h-"));
  try {
    writeFileSync(
      join(dir, "t.bpf.c"),
      `${prelude}
#include <bpf/bpf_helpers.h>
#include <tsbpf/sock_events.h>
_Static_assert(__builtin_offsetof(struct inet_sock_set_state_args, daddr_v6) == ${OFFSETS.daddr_v6}, "daddr_v6");
SEC("tracepoint/sock/inet_sock_set_state")
int on_state(struct inet_sock_set_state_args *ctx)
{
	return ctx->protocol == IPPROTO_TCP && ctx->newstate == TCP_ESTABLISHED && ctx->family == AF_INET6;
}
char LICENSE[] SEC("license") = "GPL";
`,
    );
    const r = spawnSync(
      "clang-19",
      ["-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", `-I${INCLUDE}`, "-c", "t.bpf.c"],
      { cwd: dir, encoding: "utf8" },
    );
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("sock_events.h compiles with the uapi headers and with vmlinux.h's TCP enums", {
  skip: toolSkip("clang-19"),
}, () => {
  const uapi = compile("#include <linux/bpf.h>");
  assert.equal(uapi.status, 0, uapi.stderr);
  // What vmlinux.h declares of these: enumerators, which a #define would break.
  const vmlinux = compile(`#define __VMLINUX_H__
#include <linux/types.h>
enum { BPF_ANY = 0 };
enum { IPPROTO_TCP = 6 };
enum { TCP_ESTABLISHED = 1, TCP_SYN_SENT = 2 };`);
  assert.equal(vmlinux.status, 0, vmlinux.stderr);
});
