/**
 * trace-open, with its C inside: the seeds' BCC trace-open.py as tsbpf does it. The
 * program is compiled at run time by `compile()` (tsbpf/compile) against vmlinux.h
 * generated from this kernel's BTF, so the tracepoint's record is the kernel's own
 * `struct trace_event_raw_sys_enter` (read with CO-RE) instead of a layout copied from
 * tracefs. Events go through a perf event array, as in trace-open.ts, and are decoded
 * by the `Event` codec `tsbpf gen types` wrote for trace-open.bpf.o: `struct event` is
 * the same here.
 *
 * Run (as root): node --import tsx examples/trace-open/trace-open-inline.ts [-d SECONDS] [-p PID]
 *   -d SECONDS   stop after this long (default: until Ctrl-C / SIGTERM)
 *   -p PID       only this process
 *
 * Output: as trace-open.ts: `TIME(s) COMM PID FILE`, a line per open, then
 * `N events, M lost`.
 */
import { parseArgs } from "node:util";
import { compile } from "tsbpf/compile";
import { Collection, PerfBufferReader } from "tsbpf/kernel";
import { Event } from "./trace-open.gen.ts";

const SOURCE = /* C */ `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct event {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	char comm[16];
	char file[256];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(struct trace_event_raw_sys_enter *ctx)
{
	struct event ev = {};
	__u64 id = bpf_get_current_pid_tgid();
	/* openat(dfd, filename, flags, mode): the file name is argument 1. */
	const char *filename = (const char *)BPF_CORE_READ(ctx, args[1]);

	ev.ts_ns = bpf_ktime_get_ns();
	ev.pid = id >> 32;
	ev.tid = (__u32)id;
	bpf_get_current_comm(ev.comm, sizeof(ev.comm));
	bpf_probe_read_user_str(ev.file, sizeof(ev.file), filename);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &ev, sizeof(ev));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

const { values } = parseArgs({
  options: { d: { type: "string", short: "d" }, p: { type: "string", short: "p" } },
});
const pid = values.p === undefined ? undefined : Number(values.p);

const spec = await compile(SOURCE, { name: "trace-open-inline.bpf.c" });
using coll = Collection.load(spec, { objectName: "trace_open" });
using reader = PerfBufferReader.open(coll.map("events"));
// Times count from here (per-CPU rings deliver out of order across CPUs).
const start = process.hrtime.bigint();
using _link = coll.program("trace_openat").attach();

const close = () => reader.close();
process.once("SIGINT", close);
process.once("SIGTERM", close);
const timer = values.d === undefined ? undefined : setTimeout(close, Number(values.d) * 1000);

console.log("TIME(s) COMM PID FILE");
let n = 0;
for await (const rec of reader) {
  if (rec.kind === "lost") {
    console.error(`lost ${rec.lost} events on CPU ${rec.cpu}`);
    continue;
  }
  const { ts_ns, comm, pid: evPid, file } = Event.decode(rec.data);
  if (pid !== undefined && evPid !== pid) continue;
  n++;
  console.log(`${(Number(ts_ns - start) / 1e9).toFixed(6)} ${comm} ${evPid} ${file}`);
}
clearTimeout(timer);
console.log(`${n} events, ${reader.lostRecords} lost`);
