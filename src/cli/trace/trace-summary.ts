/**
 * The loop of the summary tools (biolatency, runqlat, cpudist, syscount): their
 * programs fill maps in the kernel, and user space prints what the maps hold every
 * interval (then empties them) or once at the end, as BCC's tools do. They stop on
 * SIGINT or SIGTERM (printing what was gathered so far), after `count` reports, at the
 * end of `--duration`, or when stdout is closed; the links and maps are closed in
 * every case.
 *
 * @module
 */

import type { Collection } from "../../kernel/collection/collection.ts";
import type { Context } from "../command.ts";
import type { ReportSchedule } from "./tool-options.ts";
import { onStopSignal } from "./trace-run.ts";
import { loadTraceObject, type TraceSessionOptions } from "./trace-session.ts";

/** One summary tool. */
export interface SummaryTool {
  /** The line said on stderr once attached ("Tracing block device I/O... Hit Ctrl-C to end."). */
  readonly tracing: string;
  /** The object, its constants and tracepoints. */
  readonly session: TraceSessionOptions;
  /** When to report and stop. */
  readonly schedule: ReportSchedule;
  /** What the maps hold, as text or JSON lines (may be empty); `last`: the final report. */
  readonly report: (coll: Collection, last: boolean) => string;
  /** The maps emptied after each report in interval mode. */
  readonly resetMaps: readonly string[];
}

/** Removes every entry of `map` (hash maps; the keys are read first, then deleted). */
function emptyMap(coll: Collection, name: string): void {
  const map = coll.map(name);
  for (const key of [...map.keys()]) map.delete(key);
}

/** Runs `tool` until a signal, its count of reports or its duration ends it. */
export async function runSummaryTool(ctx: Context, tool: SummaryTool): Promise<void> {
  const signal = onStopSignal();
  // Waiting for a signal alone holds nothing open: without a handle Node would see an
  // empty event loop and exit at once.
  const timers: NodeJS.Timeout[] = [setInterval(() => {}, 0x7fffffff)];
  const after = (ms: number) =>
    new Promise<"tick">((resolve) => {
      timers.push(setTimeout(() => resolve("tick"), ms));
    });
  try {
    const { coll, links } = loadTraceObject(tool.session);
    try {
      const { intervalSeconds, count, durationSeconds } = tool.schedule;
      const deadline =
        durationSeconds !== undefined ? Date.now() + durationSeconds * 1000 : Infinity;
      ctx.out.stderr(`${tool.tracing}\n`);
      const stopped = signal.stopped.then(() => "stop" as const);
      for (let reports = 1; ; reports++) {
        const wait = Math.min(
          intervalSeconds !== undefined ? intervalSeconds * 1000 : Infinity,
          deadline - Date.now(),
        );
        const why = await (Number.isFinite(wait)
          ? Promise.race([stopped, after(Math.max(0, wait))])
          : stopped);
        const last =
          why === "stop" || Date.now() >= deadline - 1 || (count !== undefined && reports >= count);
        // The final report is of a complete picture: nothing counts once detached.
        if (last) for (const l of links) l.close();
        ctx.out.write(tool.report(coll, last));
        ctx.out.flush();
        if (last || ctx.out.stdoutClosed) break;
        for (const name of tool.resetMaps) emptyMap(coll, name);
      }
    } finally {
      for (const l of links) l.close();
      coll.close();
    }
  } finally {
    for (const t of timers) clearTimeout(t);
    signal.dispose();
  }
}
