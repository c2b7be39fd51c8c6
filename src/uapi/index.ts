/**
 * The kernel's BPF ABI: commands, types, flags, helper ids, struct layouts and errno
 * names. Most of it is generated from the kernel's BTF (bpf.generated.ts); the rest
 * is hand-written where the kernel only has `#define`s.
 *
 * Pure: no `node:` imports, so it runs in browsers too.
 *
 * @module
 */

export * from "./bpf.generated.ts";
export * from "./errno.ts";
export * from "./flags.ts";
export * from "./insn.ts";
export type { Field, StructLayout } from "./layout.ts";
export * from "./names.ts";
