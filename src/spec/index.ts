/**
 * Specs: programs, maps and whole collections as plain data, before any kernel or VM
 * has seen them.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */

export * from "./collection-spec.ts";
export type * from "./map-api.ts";
export * from "./map-iteration-error.ts";
export * from "./map-spec.ts";
export * from "./program-spec.ts";
