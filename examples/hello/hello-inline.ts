/**
 * hello, with its C inside: the seeds' BCC hello.py as tsbpf does it. The program is a
 * template string compiled at run time by `compile()` (tsbpf/compile: clang, vmlinux.h
 * from this kernel's BTF, libbpf's headers, an on-disk cache, so only the first run
 * waits for clang), then loaded and attached as hello.ts does with hello.bpf.o. Same
 * options, same output.
 *
 * Run (as root): node --import tsx examples/hello/hello-inline.ts [--self] [-n LINES] [-t SECONDS]
 *   --self        only this process's opens (sets the `target_tgid` constant)
 *   -n LINES      stop after this many lines (default 10)
 *   -t SECONDS    stop after this long (default 10)
 *
 * Output: one `attached ...` or `not attached ...` line per program, then the lines,
 * `hello from COMM (pid PID) via tracepoint`, then `N lines`.
 */
import { closeSync, openSync } from "node:fs";
import { parseArgs } from "node:util";
import { compile } from "tsbpf/compile";
import { Collection, NotSupportedError, TracePipeReader } from "tsbpf/kernel";

const SOURCE = /* C */ `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Only this thread group when non-zero (--self). */
const volatile __u32 target_tgid = 0;

static __always_inline int say_hello(const char *via)
{
	char comm[16];
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (target_tgid && tgid != target_tgid)
		return 0;
	bpf_get_current_comm(comm, sizeof(comm));
	bpf_printk("hello from %s (pid %d) via %s", comm, tgid, via);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int hello(void *ctx)
{
	return say_hello("tracepoint");
}

SEC("kprobe/do_sys_openat2")
int hello_kprobe(void *ctx)
{
	return say_hello("kprobe");
}

char LICENSE[] SEC("license") = "GPL";
`;

const { values } = parseArgs({
  options: {
    self: { type: "boolean", default: false },
    n: { type: "string", short: "n", default: "10" },
    t: { type: "string", short: "t", default: "10" },
  },
});

const spec = await compile(SOURCE, { name: "hello-inline.bpf.c" });
const tgid = new Uint8Array(new Uint32Array([values.self ? process.pid : 0]).buffer);
using coll = Collection.load(spec, { objectName: "hello", constants: { target_tgid: tgid } });
// trace_pipe opened before attaching: no line is printed before someone reads.
using pipe = TracePipeReader.open();

const attached = [];
for (const name of ["hello", "hello_kprobe"]) {
  const section = spec.programs[name]?.section;
  try {
    const link = coll.program(name).attach();
    attached.push(link);
    console.log(`attached ${name} (SEC("${section}")) to ${link.description}`);
  } catch (e) {
    if (!(e instanceof NotSupportedError)) throw e;
    console.log(`not attached ${name} (SEC("${section}")): ${e.message}`);
  }
}

const opener = setInterval(() => closeSync(openSync("/proc/self/stat", "r")), 100);
const stop = setTimeout(() => pipe.close(), Number(values.t) * 1000);
let count = 0;
try {
  for await (const rec of pipe) {
    const ours = rec.event === "bpf_trace_printk" && rec.message.startsWith("hello from ");
    // trace_pipe is the whole machine's: with --self, other tasks' lines are not ours.
    if (!ours || (values.self && rec.pid !== process.pid)) continue;
    console.log(rec.message);
    if (++count >= Number(values.n)) break;
  }
} finally {
  clearInterval(opener);
  clearTimeout(stop);
  for (const link of attached) link.close();
}
console.log(`${count} lines`);
