/**
 * hello: load hello.bpf.o, attach its tracepoint program to syscalls:sys_enter_openat,
 * and print what it says through bpf_printk, read back from trace_pipe. The example
 * opens a file every 100 ms itself, so there is something to print on a quiet machine.
 * It then tries the kprobe variant (do_sys_openat2): on a kernel without kprobes the
 * attach fails with a NotSupportedError, which is printed, and the example goes on.
 *
 * Run (as root): node node_modules/tsbpf/dist/examples/hello/hello.js [--self] [-n LINES] [-t SECONDS]
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/hello/hello.ts [--self] [-n LINES] [-t SECONDS])
 *   --self        only this process's opens (sets the `target_tgid` constant, typed by
 *                 hello.gen.ts from `tsbpf gen types`)
 *   -n LINES      stop after this many lines (default 10)
 *   -t SECONDS    stop after this long (default 10)
 *
 * Output: one `attached ...` or `not attached ...` line per program, then the lines,
 * `hello from COMM (pid PID) via tracepoint`, then `N lines`.
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadCollectionSpec } from "tsbpf/elf";
import { Collection, type Link, NotSupportedError, TracePipeReader } from "tsbpf/kernel";
import { bindHello, helloConstants } from "./hello.gen.ts";

const { values } = parseArgs({
  options: {
    self: { type: "boolean", default: false },
    n: { type: "string", short: "n", default: "10" },
    t: { type: "string", short: "t", default: "10" },
  },
});
const maxLines = Number(values.n);
const seconds = Number(values.t);

const spec = loadCollectionSpec(readFileSync(new URL("hello.bpf.o", import.meta.url)));
using obj = bindHello(
  Collection.load(spec, {
    objectName: "hello",
    constants: helloConstants(values.self ? { target_tgid: process.pid } : {}),
  }),
);
// Open trace_pipe before attaching, so no line is printed before anyone reads.
using pipe = TracePipeReader.open();

const links: Link[] = [];
try {
  for (const name of ["hello", "hello_kprobe"] as const) {
    const prog = obj.programs[name];
    const section = spec.programs[name]?.section;
    try {
      const link = prog.attach();
      links.push(link);
      console.log(`attached ${name} (SEC("${section}")) to ${link.description}`);
    } catch (e) {
      if (!(e instanceof NotSupportedError)) throw e;
      console.log(`not attached ${name} (SEC("${section}")): ${e.message}`);
    }
  }

  // Something to print: open a file now and then.
  const trigger = setInterval(() => closeSync(openSync("/proc/self/stat", "r")), 100);
  const timeout = setTimeout(() => pipe.close(), seconds * 1000);
  let lines = 0;
  try {
    for await (const rec of pipe) {
      if (rec.event !== "bpf_trace_printk" || !rec.message.startsWith("hello from ")) continue;
      // trace_pipe is shared by every BPF program on the machine: with --self, lines
      // another copy of this example (or any program) printed for other tasks are not ours.
      if (values.self && rec.pid !== process.pid) continue;
      console.log(rec.message);
      if (++lines >= maxLines) break;
    }
  } finally {
    clearInterval(trigger);
    clearTimeout(timeout);
  }
  console.log(`${lines} lines`);
} finally {
  for (const link of links) link.close();
}
