/**
 * What profile and offcputime share: their stack options (-U, -K, --folded,
 * --delimited, --stack-storage-size, a duration), the run (stack.bpf.h's maps filled in
 * the kernel until Ctrl-C, SIGTERM or the duration, then read once), and the report in
 * BCC's layouts (stack-report.ts).
 *
 * @module
 */

import type { Args } from "../args.ts";
import { type Context, type OptionDescription, printHelp } from "../command.ts";
import { UsageError } from "../format/output.ts";
import { KernelSymbolTable } from "./kernel-symbol-table.ts";
import { intOption, type OptionValues } from "./snoop-tool.ts";
import { decodeStackSum, formatStacks, nameStacks, readStack, stacksJson } from "./stack-report.ts";
import { parseToolArgs, seconds, toolUsage } from "./tool-options.ts";
import { STACK_OPERAND_HELP, STACK_OPERANDS } from "./tool-tables.ts";
import type { TraceAttachment } from "./trace-session.ts";
import { runSummaryTool } from "./trace-summary.ts";

/** BCC's default number of stacks stored. */
const DEFAULT_STACK_STORAGE = 16384;

/** The stack options as parsed, for a tool's header and constants. */
export interface StackChoice {
  /** User stacks shown (not -K). */
  readonly user: boolean;
  /** Kernel stacks shown (not -U). */
  readonly kernel: boolean;
  /** `--pid`, 0 when not given. */
  readonly pid: number;
  /** Seconds to run, when given. */
  readonly duration?: number;
}

/** One stack tool. */
export interface StackTool {
  /** The name after `tsbpf trace` ("profile"). */
  readonly name: string;
  /** What it does, a line for its help and `tsbpf trace help`. */
  readonly summary: string;
  /** Its option table (tool-tables.ts), the stack options included. */
  readonly options: readonly OptionDescription[];
  /** Checks its own options (combinations): throws a UsageError. */
  readonly check?: (v: OptionValues) => void;
  /** The line on stderr once attached (BCC's header). */
  readonly header: (v: OptionValues, s: StackChoice) => string;
  /** The object's file under src/cli/trace/bpf/. */
  readonly object: string;
  /** Its `.rodata` constants beyond the stack and pid ones. */
  readonly constants: (v: OptionValues, s: StackChoice) => Record<string, number>;
  /** Where its program goes. */
  readonly attachments: (v: OptionValues) => readonly TraceAttachment[];
  /** The JSON name of the sums ("samples", "total_us"). */
  readonly valueName: string;
  /** -a: kernel frames get `_[k]`. */
  readonly annotations?: (v: OptionValues) => boolean;
  /** Leaf kernel frames not to show (see `NameOptions.hideLeaf`). */
  readonly hideLeaf?: (name: string) => boolean;
}

/** The help text of `tool`, from its option table. */
export function stackToolHelp(bin: string, tool: StackTool): string {
  return toolUsage(bin, tool.name, tool.summary, tool.options, STACK_OPERANDS, STACK_OPERAND_HELP);
}

/**
 * Two options given together that exclude each other.
 * @throws UsageError naming both
 */
export function exclusive(tool: string, v: OptionValues, names: readonly string[]): void {
  const given = names.filter((n) => v[n] !== undefined && v[n] !== false);
  if (given.length > 1) {
    throw new UsageError(
      `trace ${tool}: ${given.map((n) => `--${n}`).join(" and ")} exclude each other`,
    );
  }
}

/** Runs `tsbpf trace NAME ...` for `tool`. */
export async function runStackTool(ctx: Context, args: Args, tool: StackTool): Promise<void> {
  const text = stackToolHelp(ctx.bin, tool);
  ctx.usage = () => text;
  const { values, positionals } = parseToolArgs(args.rest(), tool.options, tool.name);
  const v = values as OptionValues;
  if (v.help === true) {
    printHelp(ctx, text);
    ctx.out.flush();
    return;
  }
  exclusive(tool.name, v, ["user-stacks-only", "kernel-stacks-only"]);
  tool.check?.(v);
  if (positionals.length > 1) {
    throw new UsageError(
      `trace ${tool.name}: unexpected argument '${positionals[1]}' (takes [duration])`,
    );
  }
  if (positionals.length === 1 && v.duration !== undefined) {
    throw new UsageError(`trace ${tool.name}: give the duration once, as --duration or positional`);
  }
  const durationText = positionals[0] ?? v.duration;
  const choice: StackChoice = {
    user: v["kernel-stacks-only"] !== true,
    kernel: v["user-stacks-only"] !== true,
    pid: typeof v.pid === "string" ? intOption(v.pid, "--pid") : 0,
    ...(typeof durationText === "string" && { duration: seconds(durationText, "duration") }),
  };
  const storage =
    typeof v["stack-storage-size"] === "string"
      ? intOption(v["stack-storage-size"], "--stack-storage-size", 1, 1 << 24)
      : DEFAULT_STACK_STORAGE;
  const json = v.json === true || ctx.opts.json;
  const folded = v.folded === true;
  // Options are checked (constants) before anything is loaded.
  const constants = tool.constants(v, choice);
  await runSummaryTool(ctx, {
    tracing: tool.header(v, choice),
    schedule: choice.duration !== undefined ? { durationSeconds: choice.duration } : {},
    resetMaps: [],
    session: {
      tool: `trace ${tool.name}`,
      object: tool.object,
      maxEntries: { stack_traces: storage },
      constants: {
        user_stacks: choice.user ? 1 : 0,
        kernel_stacks: choice.kernel ? 1 : 0,
        ...constants,
      },
      attachments: tool.attachments(v),
    },
    report: (coll) => {
      const stacks = coll.map("stack_traces");
      const sums = [...coll.map("counts").entries()].map(([k, val]) => decodeStackSum(k, val));
      const named = nameStacks(sums, (id) => readStack(stacks, id), KernelSymbolTable.load(), {
        user: choice.user,
        kernel: choice.kernel,
        annotations: tool.annotations?.(v) === true,
        ...(tool.hideLeaf && { hideLeaf: tool.hideLeaf }),
      });
      if (named.missed > 0) {
        ctx.out.stderr(
          `WARNING: ${named.missed} stack traces could not be displayed.` +
            `${named.full ? " Consider increasing --stack-storage-size." : ""}\n`,
        );
      }
      if (json) return stacksJson(named.stacks, tool.valueName);
      const out = formatStacks(named.stacks, { folded, delimited: v.delimited === true });
      return folded ? out : `\n${out}`;
    },
  });
}

/** BCC's "user + kernel", "user" or "kernel" stack, for the headers. */
export function stackWhat(s: StackChoice): string {
  return s.user && s.kernel ? "user + kernel" : s.user ? "user" : "kernel";
}

/** BCC's header ending: " for N secs." or "... Hit Ctrl-C to end." */
export function headerEnd(s: StackChoice): string {
  return s.duration !== undefined ? ` for ${s.duration} secs.` : "... Hit Ctrl-C to end.";
}
