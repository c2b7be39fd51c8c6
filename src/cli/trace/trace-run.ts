/**
 * The part of `tsbpf trace open` and `tsbpf trace exec` that is the same: print the
 * header, stream rows as events come (stdout flushed once per batch, not per line),
 * say on stderr when tracing starts and how many events the kernel dropped, and stop
 * on SIGINT, SIGTERM, the end of `--duration`, or a closed stdout.
 *
 * @module
 */

import type { Context } from "../command.ts";
import { TraceSession, type TraceSessionOptions } from "./trace-session.ts";

/** One tool: its session and how it turns a record into output. */
export interface TraceTool {
  /** What it traces, for "Tracing ... Hit Ctrl-C to end." */
  readonly what: string;
  /** The plain-text header (none in JSON mode). */
  readonly header: string;
  /** The session: object, constants, tracepoints. */
  readonly session: TraceSessionOptions;
  /** `--duration SECONDS`. */
  readonly durationSeconds?: number;
  /** JSON lines instead of columns. */
  readonly json: boolean;
  /** The text for one record (empty when filtered out). */
  readonly render: (bytes: Uint8Array) => string;
}

/**
 * Resolves on SIGINT or SIGTERM; listening starts at once, so a signal that comes
 * while the tool is still loading stops it as soon as it is attached (and never kills
 * it half set up). `dispose` stops listening.
 */
export function onStopSignal(): { stopped: Promise<void>; dispose: () => void } {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const listener = () => stop();
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
  return {
    stopped,
    dispose: () => {
      process.off("SIGINT", listener);
      process.off("SIGTERM", listener);
    },
  };
}

/** Runs `tool` until SIGINT, SIGTERM or its duration ends. */
export async function runTraceTool(ctx: Context, tool: TraceTool): Promise<void> {
  const signal = onStopSignal();
  let timer: NodeJS.Timeout | undefined;
  try {
    const session = TraceSession.open(tool.session);
    const out = ctx.out;
    // Output is flushed once per batch of events; a reader that went away
    // (`| head`) ends the tool as SIGPIPE ends a C one, but with everything closed.
    let pipeClosed!: () => void;
    const stops: Promise<void>[] = [
      signal.stopped,
      new Promise<void>((resolve) => {
        pipeClosed = resolve;
      }),
    ];
    let flushQueued = false;
    const flushSoon = () => {
      if (flushQueued) return;
      flushQueued = true;
      setImmediate(() => {
        flushQueued = false;
        out.flush();
        if (out.stdoutClosed) pipeClosed();
      });
    };
    const duration = tool.durationSeconds;
    if (duration !== undefined) {
      stops.push(
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.round(duration * 1000));
        }),
      );
    }
    const until = Promise.race(stops);
    try {
      if (!tool.json) out.write(tool.header);
      out.flush();
      const span = duration !== undefined ? ` for ${duration} s` : "";
      out.stderr(`Tracing ${tool.what}${span}... Hit Ctrl-C to end.\n`);
    } catch (e) {
      session.close();
      throw e;
    }
    await session.run((bytes) => {
      const text = tool.render(bytes);
      if (text) {
        out.write(text);
        flushSoon();
      }
    }, until);
    out.flush();
    if (session.lost > 0) out.stderr(`Possibly lost ${session.lost} samples\n`);
  } finally {
    if (timer) clearTimeout(timer);
    signal.dispose();
  }
}
