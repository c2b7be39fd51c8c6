/**
 * How the histogram tools print what their `hists` map holds (hist.bpf.h: a u32 label
 * and a u32 log2 slot per key, a u64 count per value): BCC's `print_log2_hist` tables,
 * one per label under BCC's section line (`\ndisk = sda`, `\npid = 42`), after an
 * empty line and, with -T, the time; or with `--json`, one JSON object per histogram,
 * the fields of BCC's `print_json_hist`.
 *
 * @module
 */

import {
  formatLog2Histogram,
  histogramJson,
  log2Buckets,
  readHistograms,
} from "../../hist/index.ts";
import type { Collection } from "../../kernel/collection/collection.ts";
import type { JsonValue } from "../format/json-writer.ts";
import { clockTime } from "./event-text.ts";
import { jsonLine } from "./trace-format.ts";

/** How the histograms of one tool are labelled and printed. */
export interface HistReportOptions {
  /** The unit of the values: "usecs" or "msecs". */
  readonly unit: string;
  /** Per-label sections: the header ("disk", "pid") and how a label is shown. */
  readonly section?: {
    readonly header: string;
    readonly name: (label: number) => string | number;
  };
  /** `-T`: the local time (HH:MM:SS) before the tables. */
  readonly timestamp: boolean;
  /** One JSON line per histogram instead of tables. */
  readonly json: boolean;
  /** For tests: the time to print. */
  readonly now?: Date;
}

/** The report of the histograms in `coll`'s `hists` map. */
export function histogramReport(coll: Collection, opts: HistReportOptions): string {
  const sections = readHistograms(coll.map("hists"), {
    kind: "slot-per-entry",
    slot: { offset: 4, size: 4 },
  });
  const now = opts.now ?? new Date();
  let out = opts.json ? "" : `\n${opts.timestamp ? `${clockTime(now)}\n` : ""}`;
  const labelled = sections
    .map(({ label, counts }) => ({
      id: new DataView(label.buffer, label.byteOffset, label.byteLength).getUint32(0, true),
      counts,
    }))
    .sort((a, b) => a.id - b.id);
  for (const { id, counts } of labelled) {
    const name = opts.section?.name(id);
    if (opts.json) {
      out += jsonLine(
        histogramJson(log2Buckets(counts), {
          unit: opts.unit,
          now,
          ...(opts.section && name !== undefined && { section: [opts.section.header, name] }),
        }) as unknown as JsonValue,
      );
      continue;
    }
    if (opts.section) out += `\n${opts.section.header} = ${name}\n`;
    out += formatLog2Histogram(counts, { unit: opts.unit });
  }
  return out;
}
