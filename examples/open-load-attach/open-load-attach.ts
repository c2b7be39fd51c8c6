/**
 * open-load-attach: an object walked step by step, the way a libbpf program does it
 * with bpf_object__open_file, bpf_object__load and bpf_program__attach:
 *
 * 1. open: `loadCollectionSpec` reads the ELF into plain specs — no kernel involved —
 *    and the example lists its programs (section, type, attach target) and maps
 *    (type, key and value sizes, entries) and global variables;
 * 2. load: `Collection.load` creates the maps, writes global data, loads each program;
 * 3. attach: `attachProgram` on each program picks the hook from its SEC() name;
 * 4. run: the example opens and closes a file 10 times, then reads the counter map and
 *    the `total_events` variable, typed by open-load-attach.gen.ts (`tsbpf gen types`);
 * 5. close: links detached, collection closed, and the kernel asked whether any of the
 *    object's programs or links is still there.
 *
 * Run (as root): node node_modules/tsbpf/dist/examples/open-load-attach/open-load-attach.js [--self]
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/open-load-attach/open-load-attach.ts [--self])
 *   --self   count only this process (sets the `target_tgid` constant before loading)
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { loadCollectionSpec } from "tsbpf/elf";
import { attachProgram, Collection, type Link, linkIds, progIds } from "tsbpf/kernel";
import { mapTypeName, progTypeName } from "tsbpf/uapi";
import { bindOpenLoadAttach, openLoadAttachConstants } from "./open-load-attach.gen.ts";

const { values } = parseArgs({ options: { self: { type: "boolean", default: false } } });
const file = new URL("open-load-attach.bpf.o", import.meta.url);

// 1. Open.
const spec = loadCollectionSpec(readFileSync(file));
const programs = Object.values(spec.programs);
const maps = Object.values(spec.maps);
console.log(
  `open: open-load-attach.bpf.o: license ${spec.license}, ${programs.length} programs, ${maps.length} maps`,
);
for (const p of programs) {
  console.log(
    `  program ${p.name}: section ${p.section}, type ${progTypeName(p.type)}, attach ${p.attachTo ?? "-"}, ${p.instructions.length / 8} insns`,
  );
}
for (const m of maps) {
  console.log(
    `  map ${m.name}: type ${mapTypeName(m.type)}, key ${m.keySize}, value ${m.valueSize}, entries ${m.maxEntries}`,
  );
}
for (const v of Object.values(spec.variables)) {
  console.log(`  variable ${v.name}: ${v.map} +${v.offset}, ${v.size} bytes`);
}

// 2. Load.
const obj = bindOpenLoadAttach(
  Collection.load(spec, {
    objectName: "open-load-attach",
    constants: openLoadAttachConstants(values.self ? { target_tgid: process.pid } : {}),
  }),
);
const coll = obj.collection;
const ids = new Map<string, number>();
for (const p of programs) {
  const prog = coll.program(p.name);
  ids.set(p.name, prog.id);
  console.log(`load: ${p.name}: ${prog.typeName} program id ${prog.id}`);
}

// 3. Attach, program by program.
const links: Link[] = [];
const linkIdsSeen: number[] = [];
try {
  for (const p of programs) {
    const link = attachProgram(coll.program(p.name), p);
    links.push(link);
    const id = link.isBpfLink ? link.id : undefined;
    if (id !== undefined) linkIdsSeen.push(id);
    console.log(
      `attach: ${p.name}: ${link.description}${id === undefined ? "" : ` (link id ${id})`}`,
    );
  }

  // 4. Run: events from this process at least.
  for (let i = 0; i < 10; i++) closeSync(openSync("/proc/self/stat", "r"));
  const names = ["openat", "close", "syscalls"];
  const read = names.map((n, i) => `${n} ${obj.maps.counts.lookup(i)}`);
  console.log(`run: counts: ${read.join(", ")}; total_events ${obj.variables.total_events.get()}`);
} finally {
  // 5. Close.
  for (const link of links) link.close();
  obj.close();
}
// The kernel frees a program once nothing holds it; some hooks (raw tracepoints) let go
// only after an RCU grace period, so give it a moment.
let left: string[] = [];
let leftLinks: number[] = [];
for (let tries = 0; tries < 50; tries++) {
  const live = new Set(progIds());
  const liveLinks = new Set(linkIds());
  left = [...ids].filter(([, id]) => live.has(id)).map(([name]) => name);
  leftLinks = linkIdsSeen.filter((id) => liveLinks.has(id));
  if (left.length === 0 && leftLinks.length === 0) break;
  await sleep(100);
}
console.log(
  `close: ${links.length} links detached; programs still loaded: ${left.join(", ") || "none"}; links still there: ${leftLinks.join(", ") || "none"}`,
);
