/**
 * What `tsbpf trace funccount` prints from its `counts` map (u64 cookie → u64 calls, the
 * cookie being the function's index in the tool's list): BCC's table — an empty line,
 * with -T the time, `FUNC COUNT` (`%-36s %8s`), the functions called at least once from
 * the least to the most called, and "Detaching..." after the last — or one JSON object
 * per report.
 *
 * @module
 */

import { clockTime } from "./event-text.ts";
import { jsonLine } from "./trace-format.ts";

/** One function and its calls. */
export interface FunctionCount {
  readonly name: string;
  readonly count: bigint;
}

/** How the report is shaped. */
export interface FunccountReportOptions {
  /** JSON instead of the table. */
  readonly json: boolean;
  /** -T: the time above the table. */
  readonly timestamp: boolean;
  /** The tool's last report ("Detaching..." follows the table). */
  readonly last: boolean;
  readonly now?: Date;
}

/**
 * The counts of `entries` (the map's keys and values) named from `names` (by cookie),
 * without the functions never called, the least called first (ties in list order).
 * @throws RangeError for an entry that is not 8+8 bytes or a cookie outside `names`
 */
export function functionCounts(
  entries: Iterable<readonly [Uint8Array, Uint8Array]>,
  names: readonly string[],
): FunctionCount[] {
  const rows: { index: number; count: bigint }[] = [];
  for (const [k, v] of entries) {
    if (k.length !== 8 || v.length !== 8) {
      throw new RangeError(`funccount: entry of ${k.length}+${v.length} bytes, expected 8+8`);
    }
    const index = Number(new DataView(k.buffer, k.byteOffset, 8).getBigUint64(0, true));
    const count = new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true);
    if (index >= names.length) {
      throw new RangeError(`funccount: a count for probe ${index} of ${names.length}`);
    }
    if (count > 0n) rows.push({ index, count });
  }
  rows.sort((a, b) => (a.count < b.count ? -1 : a.count > b.count ? 1 : a.index - b.index));
  return rows.map((r) => ({ name: names[r.index] as string, count: r.count }));
}

/** One report of `rows` (already in order). */
export function funccountReport(rows: readonly FunctionCount[], o: FunccountReportOptions): string {
  const now = o.now ?? new Date();
  if (o.json) {
    return jsonLine({
      time: clockTime(now),
      functions: rows.map((r) => ({ func: r.name, count: Number(r.count) })),
    });
  }
  let out = `\n${o.timestamp ? `${clockTime(now).padEnd(8)}\n` : ""}${"FUNC".padEnd(36)} ${"COUNT".padStart(8)}\n`;
  for (const r of rows) out += `${r.name.padEnd(36)} ${String(r.count).padStart(8)}\n`;
  return o.last ? `${out}Detaching...\n` : out;
}
