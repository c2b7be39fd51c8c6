/**
 * `tsbpf export prometheus|otlp`: open the maps, serve /metrics and/or push OTLP every
 * interval until SIGINT, SIGTERM or `--duration`, then push one last time (OTLP),
 * stop serving and close every map, link and object.
 *
 * @module
 */

import { OTLP_METRICS_PATH, pushOtlpMetrics } from "../../metrics/index.ts";
import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { onStopSignal } from "../trace/trace-run.ts";
import { packageVersion } from "../version.ts";
import { type ExportOptions, parseExportOptions } from "./export-options.ts";
import { ExportSet } from "./export-sources.ts";
import { type MetricsServer, serveMetrics } from "./metrics-server.ts";

/** How long the last OTLP push on the way out may take. */
const FINAL_PUSH_MS = 2000;

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** Pushes to the OTLP endpoint every interval; failures are reported and retried next time. */
function startOtlp(ctx: Context, opts: ExportOptions & { otlp: string }, set: ExportSet) {
  const start = nowNs();
  const version = packageVersion();
  const push = async (signal?: AbortSignal) => {
    try {
      await pushOtlpMetrics(
        opts.otlp,
        set.collect(),
        { startTimeUnixNano: start, timeUnixNano: nowNs(), scope: { name: "tsbpf", version } },
        signal,
      );
    } catch (e) {
      ctx.out.stderr(`Error: ${(e as Error).message}\n`);
    }
  };
  let inFlight = push();
  const timer = setInterval(() => {
    inFlight = inFlight.then(() => push());
  }, opts.intervalSeconds * 1000);
  return {
    /** Stops the timer and sends the values as they are now. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await inFlight;
      await push(AbortSignal.timeout(FINAL_PUSH_MS));
    },
  };
}

/** Runs `tsbpf export prometheus` or `tsbpf export otlp`. */
export async function runExport(
  ctx: Context,
  args: Args,
  command: "prometheus" | "otlp",
): Promise<void> {
  const opts = parseExportOptions(args.rest(), command);
  if (opts.help) return printHelp(ctx, ctx.usage());
  // Listening starts before the maps are opened: a signal while an object loads stops
  // the exporter once it is up, with everything closed, rather than killing it half set up.
  const signal = onStopSignal();
  try {
    await serveUntilStopped(ctx, command, opts, signal.stopped);
  } finally {
    signal.dispose();
  }
}

/** Opens the maps, serves and/or pushes until `stopped` or `--duration`, then closes all. */
async function serveUntilStopped(
  ctx: Context,
  command: "prometheus" | "otlp",
  opts: ExportOptions,
  stopped: Promise<void>,
): Promise<void> {
  using set = ExportSet.open(opts);
  let server: MetricsServer | undefined;
  let otlp: ReturnType<typeof startOtlp> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const what = `${set.mapNames.length} map${set.mapNames.length === 1 ? "" : "s"} (${set.mapNames.join(", ")})`;
    if (command === "prometheus") {
      const { host, port } = opts.listen;
      server = await serveMetrics(
        host,
        port,
        () => set.collect(),
        (m) => ctx.out.stderr(`Error: ${m}\n`),
      );
      const a = server.address;
      const shown = a.family === "IPv6" ? `[${a.address}]` : a.address;
      ctx.out.stderr(`Serving ${what} at http://${shown}:${a.port}/metrics\n`);
    }
    if (opts.otlp !== undefined) {
      if (!new URL(opts.otlp).pathname.endsWith(OTLP_METRICS_PATH)) {
        ctx.out.stderr(
          `Note: OTLP/HTTP receivers take metrics at ${OTLP_METRICS_PATH}; pushing to ${opts.otlp} as given\n`,
        );
      }
      otlp = startOtlp(ctx, { ...opts, otlp: opts.otlp }, set);
      ctx.out.stderr(`Pushing ${what} to ${opts.otlp} every ${opts.intervalSeconds} s\n`);
    }
    const stops = [stopped];
    if (opts.durationSeconds !== undefined) {
      const seconds = opts.durationSeconds;
      stops.push(new Promise((resolve) => (timer = setTimeout(resolve, seconds * 1000))));
    }
    await Promise.race(stops);
  } finally {
    clearTimeout(timer);
    await otlp?.stop();
    await server?.close();
  }
}
