/**
 * The words of an object that is one command with one operand and its own options
 * (`compile FILE -o OUT`, `init DIR --name NAME`): help when asked for, parseArgs'
 * complaints as usage errors, exactly one operand.
 *
 * @module
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { Args } from "./args.ts";
import { type Context, printHelp } from "./command.ts";
import { UsageError } from "./format/output.ts";

/** Options with a `--help`/`-h` flag. */
type WithHelp = NonNullable<ParseArgsConfig["options"]> & {
  readonly help: { readonly type: "boolean" };
};

/** What {@link parseOneOperand} read: the options' values and the operand. */
export interface OneOperand<O extends WithHelp> {
  readonly values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>["values"];
  readonly operand: string;
}

/**
 * Reads the rest of `args` for `object` with `options`; `operand` names the one word
 * it needs ("DIR", "source FILE") in errors. Prints the usage and returns undefined
 * for no words, `help`, `--help` or `-h`.
 *
 * @throws {UsageError} for an unknown option, a missing value, or not one operand
 */
export function parseOneOperand<O extends WithHelp>(
  ctx: Context,
  args: Args,
  object: string,
  options: O,
  operand: string,
): OneOperand<O> | undefined {
  const words: string[] = [];
  while (args.count > 0) words.push(args.next());
  if (words.length === 0 || words[0] === "help") {
    printHelp(ctx, ctx.usage());
    return undefined;
  }
  let parsed: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: words, options, allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs' advice to use "--" does not apply to these words.
    throw new UsageError(`${object}: ${(e as Error).message.replace(/\. To specify.*$/s, "")}`);
  }
  const { values, positionals } = parsed;
  if ((values as { help?: boolean }).help) {
    printHelp(ctx, ctx.usage());
    return undefined;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `${object}: no ${operand}`
        : `${object}: one ${operand}, not ${positionals.length} (${positionals.join(" ")})`,
    );
  }
  return { values, operand: positionals[0]! };
}
