/**
 * tsbpf's main entry: the pure parts that run anywhere JavaScript does — the
 * instruction set (decode, encode, assemble, disassemble, build), program and map
 * specs, and the kernel ABI's type enums. The kernel backend is `tsbpf/kernel`, the
 * full ABI `tsbpf/uapi`.
 *
 * @example
 * ```ts
 * import { assemble, encodeProgram, ProgType, type ProgramSpec } from "tsbpf";
 * const spec: ProgramSpec = {
 *   name: "ret2",
 *   type: ProgType.SOCKET_FILTER,
 *   license: "GPL",
 *   instructions: encodeProgram(assemble("r0 = 2\nexit")),
 * };
 * ```
 * @module
 */

export * from "./isa/index.ts";
export type * from "./spec/map-api.ts";
export * from "./spec/map-spec.ts";
export * from "./spec/program-spec.ts";
export {
  AttachType,
  attachTypeName,
  HelperId,
  helperName,
  LinkType,
  linkTypeName,
  MapFlags,
  MapType,
  mapTypeName,
  ProgType,
  progTypeName,
  UpdateFlags,
} from "./uapi/index.ts";
