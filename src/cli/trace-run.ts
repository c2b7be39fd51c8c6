/**
 * The part of `tsbpf trace open` and `tsbpf trace exec` that is the same: print the
 * header, stream rows as events come (stdout flushed once per batch, not per line),
 * say on stderr when tracing starts and how many events the kernel dropped.
 *
 * @module
 */

import type { Context } from "./command.ts";
import { TraceSession, type TraceSessionOptions } from "./trace-session.ts";

/** One tool: its session and how it turns a record into output. */
export interface TraceTool {
  /** What it traces, for "Tracing ... Hit Ctrl-C to end." */
  readonly what: string;
  /** The plain-text header (none in JSON mode). */
  readonly header: string;
  /** The session: object, constants, tracepoints. */
  readonly session: TraceSessionOptions;
  /** `-d SECONDS`. */
  readonly durationSeconds?: number;
  /** JSON lines instead of columns. */
  readonly json: boolean;
  /** The text for one record (empty when filtered out). */
  readonly render: (bytes: Uint8Array) => string;
}

/** Runs `tool` until SIGINT, SIGTERM or its duration ends. */
export async function runTraceTool(ctx: Context, tool: TraceTool): Promise<void> {
  const session = TraceSession.open(tool.session);
  const out = ctx.out;
  let flushQueued = false;
  const flushSoon = () => {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      out.flush();
    });
  };
  try {
    if (!tool.json) out.write(tool.header);
    out.flush();
    const until = tool.durationSeconds !== undefined ? ` for ${tool.durationSeconds} s` : "";
    out.stderr(`Tracing ${tool.what}${until}... Hit Ctrl-C to end.\n`);
  } catch (e) {
    session.close();
    throw e;
  }
  await session.run(
    (bytes) => {
      const text = tool.render(bytes);
      if (text) {
        out.write(text);
        flushSoon();
      }
    },
    tool.durationSeconds !== undefined ? { durationSeconds: tool.durationSeconds } : {},
  );
  out.flush();
  if (session.lost > 0) out.stderr(`Possibly lost ${session.lost} samples\n`);
}
