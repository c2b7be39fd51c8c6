/**
 * `tsbpf prog tracelog`: streams the kernel's trace_pipe — what programs print with
 * bpf_printk / bpf_trace_printk — to stdout, line by line as it comes, until SIGINT,
 * SIGTERM or SIGHUP; then it exits cleanly (code 0), as `bpftool prog tracelog` does.
 * With `-j` the lines form a JSON array of strings (each with its newline), closed on
 * exit. tracefs is mounted when it is not.
 *
 * Reading trace_pipe consumes it: two readers share the lines between them.
 */
import { TracePipeReader } from "../../kernel/readers/trace-pipe.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { reason } from "../objects/selectors.ts";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** `prog tracelog`. */
export async function traceLog(ctx: Context, args: Args): Promise<void> {
  args.end();
  let reader: TracePipeReader;
  try {
    reader = TracePipeReader.open();
  } catch (e) {
    throw new CliError(`could not open trace pipe: ${reason(e)}`);
  }
  const stop = () => reader.close();
  for (const s of SIGNALS) process.on(s, stop);
  const out = ctx.out;
  if (out.json) {
    out.w.startArray();
    out.flush();
  }
  try {
    for await (const rec of reader) {
      if (out.json) out.value(`${rec.raw}\n`);
      else out.write(`${rec.raw}\n`);
      out.flush();
    }
  } finally {
    for (const s of SIGNALS) process.off(s, stop);
    reader.close();
  }
  if (out.json) out.w.endArray();
}
