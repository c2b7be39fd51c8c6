/**
 * tsbpf's Linux backend: maps, programs, links, pins and object info in the kernel.
 * One `export ... from` line per module; keep it a plain list.
 *
 * @module
 */

export * from "./btf.ts";
export * from "./btf-info.ts";
export * from "./collection.ts";
export * from "./collection-errors.ts";
export * from "./collection-externs.ts";
export * from "./collection-variables.ts";
export * from "./cpus.ts";
export * from "./features/index.ts";
export * from "./link.ts";
export * from "./link-info.ts";
export * from "./links/index.ts";
export * from "./load-spec.ts";
export * from "./map.ts";
export * from "./map-batch.ts";
export * from "./map-create.ts";
export * from "./map-info.ts";
export * from "./obj-info.ts";
export * from "./objects.ts";
export * from "./perf-event.ts";
export * from "./perfbuf.ts";
export * from "./perfbuf-raw.ts";
export * from "./pin.ts";
export * from "./poll.ts";
export * from "./prog-info.ts";
export * from "./program.ts";
export * from "./program-attach-target.ts";
export * from "./program-btf.ts";
export * from "./program-load.ts";
export * from "./program-stats.ts";
export * from "./record-decode.ts";
export * from "./ringbuf.ts";
export * from "./ringbuf-raw.ts";
// From the syscall layer only what users need: the raw bpf(2) escape hatch, owned fds
// and the error type. Native memory and FFI functions stay internal.
export { BpfCall, Fd, OutBuffer, openFdCount, SyscallError } from "./sys/index.ts";
export * from "./test-run.ts";
export * from "./trace-pipe.ts";
export * from "./tracefs.ts";
export * from "./uprobe-library.ts";
export * from "./uprobe-symbols.ts";
export * from "./verifier-error.ts";
export * from "./verifier-log.ts";
