/**
 * BTF, the BPF Type Format: parse a blob into typed records and look types up.
 *
 * Pure: no `node:` imports, so it runs in browsers too.
 *
 * @module
 */

export { BTF, describeType, POINTER_SIZE } from "./btf.ts";
export { type DecodedValue, decodeValue } from "./decode-value.ts";
export { type DumpCOptions, dumpC, dumpCTo, MAX_DUMP_DEPTH } from "./dump-c.ts";
export { dumpRaw, formatRawType } from "./dump-raw.ts";
export { type EncodeOptions, encodeBTF, encodeTypes } from "./encode.ts";
export { BTFError } from "./errors.ts";
export {
  BTF_EXT_HEADER_CORE,
  BTF_EXT_HEADER_MIN,
  BTF_EXT_MAGIC,
  type BTFExt,
  type CoreRelo,
  CoreReloKind,
  coreReloKindName,
  type FuncInfo,
  type LineInfo,
  parseBTFExt,
} from "./ext.ts";
export {
  type FormatValueOptions,
  formatValue,
  isCharElement,
  isStringArray,
  readBits,
  type ValueSink,
} from "./format-value.ts";
export {
  BTF_HEADER_SIZE,
  BTF_MAGIC,
  BTF_VERSION,
  type ParseOptions,
  parseBTF,
  parseHeader,
} from "./parse.ts";
export { ALL_BTF_FEATURES, type BTFFeatures, sanitizeTypes } from "./sanitize.ts";
export { StringTable } from "./strings.ts";
export * from "./types.ts";
