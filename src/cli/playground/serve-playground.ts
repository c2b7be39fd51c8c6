/**
 * `tsbpf playground [--port N]`, once playground.ts set its usage: finds the built
 * playground and serves it on 127.0.0.1 until SIGINT or SIGTERM.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Args } from "../args.ts";
import { type Context, printHelp } from "../command.ts";
import { CliError, UsageError } from "../format/output.ts";
import { packageRoot } from "../package-files.ts";
import { OPTIONS } from "./playground.ts";
import { serveStatic } from "./static-server.ts";

/** The port when none is given (unassigned by IANA, and not a common dev server's). */
export const DEFAULT_PORT = 8437;

/** Where the built playground is: dist/playground under the package's root. */
export function playgroundDir(): string {
  return join(packageRoot() ?? process.cwd(), "dist", "playground");
}

/** Serves the playground. */
export async function servePlayground(ctx: Context, args: Args): Promise<void> {
  const words: string[] = [];
  while (args.count > 0) words.push(args.next());
  if (words[0] === "help") return printHelp(ctx, ctx.usage());
  let values: { port?: string; help?: boolean };
  try {
    const parsed = parseArgs({
      args: words,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (parsed.positionals.length) throw new Error(`unexpected word '${parsed.positionals[0]}'`);
    values = parsed.values;
  } catch (e) {
    throw new UsageError(`playground: ${(e as Error).message.replace(/\. To specify.*$/s, "")}`);
  }
  if (values.help) return printHelp(ctx, ctx.usage());
  let port = DEFAULT_PORT;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535)
      throw new UsageError(`playground: --port ${values.port}: not a port number (0..65535)`);
    port = Number(values.port);
  }
  const dir = playgroundDir();
  if (!existsSync(join(dir, "index.html")))
    throw new CliError(
      `playground: ${dir} has no index.html: build it first (npm run build:playground)`,
    );
  let server: Awaited<ReturnType<typeof serveStatic>>;
  try {
    server = await serveStatic(dir, "127.0.0.1", port);
  } catch (e) {
    throw new CliError(`playground: cannot listen on 127.0.0.1:${port}: ${(e as Error).message}`);
  }
  const url = `http://127.0.0.1:${server.address.port}/`;
  if (ctx.out.json) ctx.out.value({ url, dir });
  else ctx.out.write(`tsbpf playground: ${url} (serving ${dir}; Ctrl+C stops)\n`);
  ctx.out.flush();
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await server.close();
}
