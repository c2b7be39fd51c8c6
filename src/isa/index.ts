/**
 * The eBPF instruction set (RFC 9669 + the Linux kernel's extensions): a typed
 * instruction model, binary decode/encode, a text assembler, disassemblers in
 * bpftool's and llvm-objdump's formats, and a builder for writing programs in TS.
 * @module
 */

export * from "./assemble.ts";
export * from "./builder.ts";
export * from "./decode.ts";
export * from "./encode.ts";
export * from "./errors.ts";
export * from "./format-kernel.ts";
export * from "./format-llvm.ts";
export * from "./instruction.ts";
