/**
 * trace-open: every openat(2) on the machine — time, command, pid and file name — sent
 * by trace-open.bpf.c through a perf event array (one ring per CPU) and printed here.
 * Records are decoded by the codec `tsbpf gen types` wrote from the object's BTF
 * (trace-open.gen.ts: `Event.decode`, typed), so the C definition is the only one.
 *
 * Run (as root): node node_modules/tsbpf/dist/examples/trace-open/trace-open.js [-d SECONDS] [-p PID]
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/trace-open/trace-open.ts [-d SECONDS] [-p PID])
 *   -d SECONDS   stop after this long (default: until Ctrl-C / SIGTERM)
 *   -p PID       only this process
 *
 * Output: `TIME(s) COMM PID FILE` once attached, then a line per open (TIME in seconds
 * since tracing started: bpf_ktime_get_ns and process.hrtime both read CLOCK_MONOTONIC);
 * `N events, M lost` on exit.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadCollectionSpec } from "tsbpf/elf";
import { Collection, PerfBufferReader } from "tsbpf/kernel";
import { bindTraceOpen, Event } from "./trace-open.gen.ts";

const { values } = parseArgs({
  options: { d: { type: "string", short: "d" }, p: { type: "string", short: "p" } },
});
const onlyPid = values.p === undefined ? undefined : Number(values.p);

const spec = loadCollectionSpec(readFileSync(new URL("trace-open.bpf.o", import.meta.url)));
using obj = bindTraceOpen(Collection.load(spec, { objectName: "trace-open" }));
using reader = PerfBufferReader.open(obj.maps.events);
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
for await (const rec of reader) {
  if (rec.kind === "lost") {
    console.error(`lost ${rec.lost} events on CPU ${rec.cpu}`);
    continue;
  }
  const ev = Event.decode(rec.data);
  if (onlyPid !== undefined && ev.pid !== onlyPid) continue;
  events++;
  const time = (Number(ev.ts_ns - start) / 1e9).toFixed(6);
  console.log(`${time} ${ev.comm} ${ev.pid} ${ev.file}`);
}
clearTimeout(timer);
console.log(`${events} events, ${reader.lostRecords} lost`);
