/**
 * Specs: programs, maps and whole collections as plain data, before any kernel or VM
 * has seen them; the interfaces both backends implement; and codecs with typed maps
 * and variables over those interfaces (what `tsbpf gen types` modules are built on).
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

export * from "./attach.ts";
export type * from "./backend.ts";
export * from "./codec.ts";
export * from "./collection-spec.ts";
export * from "./log-decoder.ts";
export * from "./log-format.ts";
export * from "./log-sites.ts";
export type * from "./map-api.ts";
export * from "./map-compat.ts";
export * from "./map-iteration-error.ts";
export * from "./map-spec.ts";
export * from "./program-spec.ts";
export * from "./typed.ts";
export * from "./variable.ts";
export * from "./variable-values.ts";
