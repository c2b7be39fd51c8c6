/**
 * Child of test/cli-perf.test.ts: holds programs on perf events and a raw tracepoint
 * (a tracepoint, a uprobe and a uretprobe on libc's getpid, and raw tracepoint
 * sys_enter) until its stdin closes, then releases them. Prints one JSON line when
 * attached: its pid and the program ids, or `{"skip": reason}`.
 */
import {
  attachRawTracepoint,
  attachTracepoint,
  attachUprobe,
  type Link,
  Program,
} from "../../src/kernel/index.ts";
import { programInfoByFd } from "../../src/kernel/programs/prog-info.ts";
import { ProgType } from "../../src/uapi/index.ts";

/** `r0 = 0; exit` */
const RET0 = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
const load = (name: string, type: ProgType) =>
  Program.load({ name, type, license: "GPL", instructions: RET0 });

const progs: Program[] = [];
const links: Link[] = [];
try {
  const tp = load("pp_tp", ProgType.TRACEPOINT);
  progs.push(tp);
  links.push(attachTracepoint(tp, "syscalls", "sys_enter_getpid"));
  const raw = load("pp_raw", ProgType.RAW_TRACEPOINT);
  progs.push(raw);
  links.push(attachRawTracepoint(raw, "sys_enter"));
  const up = load("pp_up", ProgType.KPROBE);
  progs.push(up);
  links.push(attachUprobe(up, "libc.so.6", "getpid", { pid: process.pid }));
  links.push(attachUprobe(up, "libc.so.6", "getpid", { pid: process.pid, retprobe: true }));
  const ids = Object.fromEntries(progs.map((p) => [p.name, programInfoByFd(p.fd).id]));
  process.stdout.write(`${JSON.stringify({ pid: process.pid, ids })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ skip: (e as Error).message })}\n`);
}
process.stdin.resume();
process.stdin.on("end", () => {
  for (const l of links) l.close();
  for (const p of progs) p.close();
  process.exit(0);
});
