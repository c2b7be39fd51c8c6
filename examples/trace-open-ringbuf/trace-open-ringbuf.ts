/**
 * trace-open-ringbuf: trace-open over a ring buffer. Every openat(2) — time, command, pid and
 * file name — reserved and submitted by trace-open-ringbuf.bpf.c in one ring shared by all
 * CPUs (in order, no per-CPU rings), read zero-copy from the mmap'd ring and printed.
 * Records are decoded by the codec `tsbpf gen types` wrote from the object's BTF
 * (trace-open-ringbuf.gen.ts: `Event.decode`, typed), so the C definition is the only one.
 *
 * Run (as root): node node_modules/tsbpf/dist/examples/trace-open-ringbuf/trace-open-ringbuf.js [-d SECONDS] [-p PID]
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/trace-open-ringbuf/trace-open-ringbuf.ts [-d SECONDS] [-p PID])
 *   -d SECONDS   stop after this long (default: until Ctrl-C / SIGTERM)
 *   -p PID       only this process
 *
 * Output: `TIME(s) COMM PID FILE` once attached, then a line per open (TIME in seconds
 * since tracing started: bpf_ktime_get_ns and process.hrtime both read CLOCK_MONOTONIC);
 * `N events` on exit.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadCollectionSpec } from "tsbpf/elf";
import { Collection, RingBufferReader } from "tsbpf/kernel";
import { bindTraceOpenRingbuf, Event } from "./trace-open-ringbuf.gen.ts";

const { values } = parseArgs({
  options: { d: { type: "string", short: "d" }, p: { type: "string", short: "p" } },
});
const onlyPid = values.p === undefined ? undefined : Number(values.p);

const spec = loadCollectionSpec(readFileSync(new URL("trace-open-ringbuf.bpf.o", import.meta.url)));
using obj = bindTraceOpenRingbuf(Collection.load(spec, { objectName: "trace-open-ringbuf" }));
using reader = RingBufferReader.open(obj.maps.events);
// Times are since this moment: per-CPU rings deliver events out of order across CPUs,
// so "since the first event seen" could go negative.
const start = process.hrtime.bigint();
using _link = obj.programs.trace_openat.attach();

const stop = () => reader.close();
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
const timer = values.d === undefined ? undefined : setTimeout(stop, Number(values.d) * 1000);

console.log("TIME(s) COMM PID FILE");
let events = 0;
for await (const data of reader) {
  const ev = Event.decode(data);
  if (onlyPid !== undefined && ev.pid !== onlyPid) continue;
  events++;
  const time = (Number(ev.ts_ns - start) / 1e9).toFixed(6);
  console.log(`${time} ${ev.comm} ${ev.pid} ${ev.file}`);
}
clearTimeout(timer);
// A full ring drops events in the program (bpf_ringbuf_reserve fails); none are counted here.
console.log(`${events} events`);
