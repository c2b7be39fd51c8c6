/**
 * tsbpf's main entry: the pure parts that run anywhere JavaScript does — the
 * instruction set (decode, encode, assemble, disassemble, build), program and map
 * specs, reading an ELF object into a collection spec (`loadCollectionSpec`), and the
 * kernel ABI's type enums. The kernel backend is `tsbpf/kernel`, the userspace VM
 * `tsbpf/vm`; `tsbpf/uapi`, `tsbpf/isa`, `tsbpf/btf`, `tsbpf/spec` and `tsbpf/elf` give
 * each layer whole.
 *
 * @example
 * ```ts
 * import { loadCollectionSpec } from "tsbpf";
 * import { Collection } from "tsbpf/kernel";
 * const spec = loadCollectionSpec(new Uint8Array(readFileSync("trace-open.bpf.o")));
 * const coll = Collection.load(spec);
 * ```
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

export { ELFError, loadCollectionSpec } from "./elf/index.ts";
export * from "./isa/index.ts";
export type * from "./spec/collection-spec.ts";
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
