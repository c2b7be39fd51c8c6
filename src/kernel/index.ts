/**
 * tsbpf's Linux backend: maps, programs, links, pins and object info in the kernel.
 * One `export ... from` line per module; keep it a plain list.
 *
 * @module
 */
export * from "./cpus.ts";
export * from "./map.ts";
export * from "./map-batch.ts";
export * from "./map-create.ts";
export * from "./map-info.ts";
export * from "./obj-info.ts";
export * from "./objects.ts";
export * from "./pin.ts";
export * from "./sys/index.ts";
