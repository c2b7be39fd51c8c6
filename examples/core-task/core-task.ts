/**
 * core-task: a CO-RE program. core-task.bpf.c reads `task->real_parent->tgid` and
 * `task->cgroups->dfl_cgrp->kn->id` with BPF_CORE_READ from minimal struct definitions;
 * loading it resolves each of those field accesses against this kernel's BTF
 * (/sys/kernel/btf/vmlinux) — the offsets in the object are clang's guesses, the ones
 * loaded are the running kernel's. The example prints the relocations as resolved, then
 * a line per exec: the new process, its parent, its cgroup (v2 id: the inode number of
 * its cgroup directory) and what it runs, decoded by core-task.gen.ts (`tsbpf gen types`).
 *
 * Run (as root): node node_modules/tsbpf/dist/examples/core-task/core-task.js [-d SECONDS] [-n EVENTS]
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/core-task/core-task.ts [-d SECONDS] [-n EVENTS])
 *   -d SECONDS   stop after this long (default: until Ctrl-C / SIGTERM)
 *   -n EVENTS    stop after this many execs
 *
 * Output: `core: ...` lines (one per CO-RE relocation), then `PID PPID CGROUP UID COMM
 * FILE` once attached, then a line per exec; `N events` on exit.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadCollectionSpec } from "tsbpf/elf";
import { Collection, RingBufferReader } from "tsbpf/kernel";
import { bindCoreTask, Event } from "./core-task.gen.ts";

const { values } = parseArgs({
  options: { d: { type: "string", short: "d" }, n: { type: "string", short: "n" } },
});
const maxEvents = values.n === undefined ? Infinity : Number(values.n);

const spec = loadCollectionSpec(readFileSync(new URL("core-task.bpf.o", import.meta.url)));
using obj = bindCoreTask(Collection.load(spec, { objectName: "core-task" }));
for (const r of obj.collection.core.task_exec?.resolutions ?? []) {
  const change = r.poison
    ? `unsatisfied (${r.reason})`
    : r.origValue === r.newValue
      ? `${r.newValue}`
      : `${r.origValue} -> ${r.newValue}`;
  console.log(`core: ${r.description}: ${change}`);
}
using reader = RingBufferReader.open(obj.maps.events);
using _link = obj.programs.task_exec.attach();

const stop = () => reader.close();
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
const timer = values.d === undefined ? undefined : setTimeout(stop, Number(values.d) * 1000);

console.log("PID PPID CGROUP UID COMM FILE");
let events = 0;
for await (const data of reader) {
  const ev = Event.decode(data);
  // The two ways of reading the cgroup must agree; say so when they do not.
  const cgroup =
    ev.cgroup_id === ev.helper_cgroup_id
      ? `${ev.cgroup_id}`
      : `${ev.cgroup_id}(helper:${ev.helper_cgroup_id})`;
  console.log(`${ev.pid} ${ev.ppid} ${cgroup} ${ev.uid} ${ev.comm} ${ev.file}`);
  if (++events >= maxEvents) break;
}
clearTimeout(timer);
console.log(`${events} events`);
