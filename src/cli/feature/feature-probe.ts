/**
 * `tsbpf feature probe [kernel] [full] [macros [prefix PREFIX]]`: the words, the probes
 * (kernel/features) and the output in bpftool's sections, as `#define`s or as JSON.
 */
import { probeKernelFeatures } from "../../kernel/features/report.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { formatFeatures } from "./format-feature.ts";

/** Runs `tsbpf feature probe ...`. */
export async function probe(ctx: Context, args: Args): Promise<void> {
  let component = false;
  let full = false;
  let prefix: string | undefined;
  while (args.count > 0) {
    if (args.is("kernel")) {
      if (component) throw new CliError("component to probe already specified");
      component = true;
      args.skip();
    } else if (args.is("dev")) {
      throw new CliError("probing offload devices (dev NAME) is not supported by tsbpf yet");
    } else if (args.is("full")) {
      full = true;
      args.skip();
    } else if (args.is("macros") && prefix === undefined) {
      prefix = "";
      args.skip();
    } else if (args.is("prefix")) {
      if (prefix === undefined) {
        throw new CliError("'prefix' argument can only be use after 'macros'");
      }
      if (prefix !== "") throw new CliError("'prefix' already defined");
      args.skip();
      args.require(1);
      prefix = args.next();
    } else if (args.is("unprivileged")) {
      throw new CliError("unprivileged probing is not supported by tsbpf yet");
    } else {
      throw new CliError(
        `expected no more arguments, 'kernel', 'dev', 'macros' or 'prefix', got: '${args.peek()}'?`,
      );
    }
  }
  if (process.geteuid?.() !== 0)
    throw new CliError("full feature probing requires root privileges");
  const report = probeKernelFeatures({ full });
  if (report.systemConfig.configSource === undefined && !ctx.out.json) {
    ctx.out.info("skipping kernel config, can't open file: No such file or directory");
  }
  if (ctx.out.json) {
    ctx.out.w.startObject();
    formatFeatures(report, { kind: "json", w: ctx.out.w }, { full });
    ctx.out.w.endObject();
  } else {
    ctx.out.write(
      formatFeatures(
        report,
        prefix === undefined ? { kind: "plain" } : { kind: "macros", prefix },
        { full },
      ),
    );
  }
}
