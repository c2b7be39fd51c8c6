/**
 * log: logging from a BPF program with tsbpf_log.h, formatted in userspace. log.bpf.c
 * calls log_info/log_debug/log_warn/log_trace on every openat(2); a BpfLogger reads
 * the records from the object's TSBPF_LOG ring buffer and prints them with the format
 * strings the object keeps in its .rodata.tsbpf_log section — no trace_pipe.
 *
 * Run (as root): node --conditions=tsbpf-source --import tsx examples/log/log.ts [-d SECONDS] [-p PID] [-l LEVEL]
 *   -d SECONDS   stop after this long (default: until Ctrl-C / SIGTERM)
 *   -p PID       only this process (default: every process)
 *   -l LEVEL     the most verbose level the program writes: error, warn, info, debug
 *                or trace (default info); the verifier removes the calls above it
 *
 * Output: `logging openat(2) at level LEVEL` once attached, then lines such as
 *   [INFO  log_openat] pid=42 comm=cat
 *   [DEBUG log_openat] openat(-100, "/etc/hostname")
 *   [WARN  log_flags] creating, mode 0644
 * and `N records, M dropped` on exit.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadCollectionSpec } from "tsbpf/elf";
import { BpfLogger, Collection, logLevelConstants } from "tsbpf/kernel";

const { values } = parseArgs({
  options: {
    d: { type: "string", short: "d" },
    p: { type: "string", short: "p" },
    l: { type: "string", short: "l", default: "info" },
  },
});

const spec = loadCollectionSpec(readFileSync(new URL("log.bpf.o", import.meta.url)));
using coll = Collection.load(spec, {
  objectName: "log",
  constants: { ...logLevelConstants(values.l), target_pid: Number(values.p ?? 0) },
});
using logger = BpfLogger.open(coll).start();
using _link = coll.programs.log_openat!.attach();

let stop = () => {};
const stopped = new Promise<void>((resolve) => {
  stop = () => {
    logger.close();
    resolve();
  };
});
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
const timer = values.d === undefined ? undefined : setTimeout(stop, Number(values.d) * 1000);
console.log(`logging openat(2) at level ${values.l}`);
await stopped;
clearTimeout(timer);
console.log(`${logger.decoder.delivered} records, ${logger.dropped} dropped`);
