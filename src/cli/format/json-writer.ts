/**
 * The CLI's JSON writer: src/btf/json-writer.ts (pure, so the playground prints BTF
 * values with the same layout as `tsbpf map dump`).
 */
export { type JsonValue, JsonWriter } from "../../btf/json-writer.ts";
