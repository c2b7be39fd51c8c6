/**
 * Ring buffer records read through the object's BTF: the struct types a record can be
 * decoded as, the one picked by default, and a record printed with the value
 * formatter `tsbpf map dump` uses (src/btf/value-text.ts), so the playground and the
 * CLI show the same bytes the same way.
 *
 * Pure: no DOM, no `node:` imports.
 * @module
 */
import type { BTF } from "../../../src/btf/btf.ts";
import { valueText } from "../../../src/btf/value-text.ts";

/** The choice that shows records as bytes. */
export const HEX = "hex";

/** A struct a record can be decoded as. */
export interface RecordType {
  readonly name: string;
  readonly id: number;
  /** Its size in bytes. */
  readonly size: number;
}

/** The named structs of `btf`, sorted by name (one per name: the first). */
export function recordTypes(btf: BTF | undefined): RecordType[] {
  if (!btf) return [];
  const seen = new Map<string, RecordType>();
  for (const t of btf.types)
    if (t.kind === "STRUCT" && t.name && !seen.has(t.name))
      seen.set(t.name, { name: t.name, id: t.id, size: t.size });
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** A name that says "an event record": `event`, `*_event`, `data_t` (BCC's habit). */
const EVENT_NAME = /^(event|.+_event|data_t)$/;

/**
 * The type records are decoded as until the user picks another: the one struct whose
 * name suggests an event, or {@link HEX} when none or several do (a guess between
 * several would mislead).
 */
export function defaultRecordType(types: readonly RecordType[]): string {
  const events = types.filter((t) => EVENT_NAME.test(t.name));
  return events.length === 1 ? (events[0]?.name ?? HEX) : HEX;
}

/**
 * One record as text: decoded as struct `type` of `btf` (bpftool's plain layout), or
 * undefined for {@link HEX} or a name the BTF has not. A record shorter than the struct
 * is not decoded: the text says how short it is; bytes past the struct are counted.
 */
export function recordText(
  btf: BTF | undefined,
  types: readonly RecordType[],
  type: string,
  record: Uint8Array,
): string | undefined {
  const t = btf && type !== HEX ? types.find((x) => x.name === type) : undefined;
  if (!btf || !t) return undefined;
  if (record.length < t.size)
    return `(${record.length} bytes: shorter than struct ${t.name}, which is ${t.size} bytes)`;
  const text = valueText(btf, t.id, record.subarray(0, t.size), true);
  const extra = record.length - t.size;
  return extra ? `${text}\n(and ${extra} more byte${extra === 1 ? "" : "s"})` : text;
}
