/**
 * The command table as data and as code agree: each object module's dispatch table
 * lists its description's commands in the same order (the order settles
 * abbreviations), every command offered is in the object's usage, each command's own
 * usage is about that command, and the main usage names every object.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Command } from "../src/cli/command.ts";
import { completionCommands } from "../src/cli/completion/completion.ts";
import { describeObjects } from "../src/cli/describe-cli.ts";
import { CLI } from "../src/cli/main.ts";
import { tsbpf } from "./cli-run.ts";

/** An object module's dispatch table: `COMMANDS` by convention (src/cli/NAME/NAME.ts). */
async function dispatchTable(name: string): Promise<readonly Command[]> {
  if (name === "completion") return completionCommands(CLI);
  const module = (await import(`../src/cli/${name}/${name}.ts`)) as { COMMANDS?: Command[] };
  return module.COMMANDS ?? [];
}

test("each object's dispatch table is its description's commands, in order", async () => {
  const described = (await describeObjects(CLI)).filter((o) => o.description);
  assert.ok(described.length >= 13, `${described.length} objects described`);
  for (const o of described) {
    const d = o.description;
    if (!d) continue;
    const table = await dispatchTable(o.name);
    assert.deepEqual(
      table.map((c) => c.name),
      d.commands.map((c) => c.name),
      `${o.name}: dispatch and description`,
    );
    for (const c of table) assert.equal(typeof c.run, "function", `${o.name} ${c.name}`);
  }
});

test("every command offered is in its object's usage; own usages are about their command", async () => {
  for (const o of await describeObjects(CLI)) {
    const d = o.description;
    if (!d) continue;
    const usage = d.usage("tsbpf");
    assert.match(usage, new RegExp(`^Usage: tsbpf ${o.name}\\b`), o.name);
    for (const c of d.commands) {
      if (c.unsupported) continue;
      assert.match(usage, new RegExp(`\\b${c.name}\\b`), `${o.name} usage lists ${c.name}`);
      if (c.usage) {
        assert.match(c.usage("tsbpf"), new RegExp(`^Usage: tsbpf ${o.name} ${c.name}\\b`));
      }
    }
  }
});

test("the main usage names every described object", async () => {
  const usage = (await tsbpf("help")).stdout;
  const listed =
    /OBJECT := \{ ([^}]*) \}/
      .exec(usage)?.[1]
      ?.split("|")
      .map((w) => w.trim()) ?? [];
  for (const o of await describeObjects(CLI)) {
    if (!o.description) continue;
    const ownLine = new RegExp(`\\n {7}tsbpf ${o.name}\\b`).test(usage);
    assert.ok(listed.includes(o.name) || ownLine, `${o.name} in the main usage`);
  }
  for (const name of listed) assert.ok(CLI.objects.some((o) => o.name === name && o.describe));
});

test("compile's and init's described options are the ones their parsers take", async () => {
  for (const module of [
    await import("../src/cli/compile/compile.ts"),
    await import("../src/cli/init/init.ts"),
  ]) {
    const { DESCRIPTION, OPTIONS } = module;
    assert.deepEqual(
      DESCRIPTION.options.map((o) => [o.long, "short" in o ? o.short : undefined]),
      Object.entries(OPTIONS).map(([long, o]) => [long, "short" in o ? o.short : undefined]),
      DESCRIPTION.name,
    );
  }
});

test("object modules stay light: completion and man load no kernel, ELF or compiler code", async () => {
  // Their only static imports are the CLI's own argument and command modules (and
  // types); what runs a command is imported when it runs.
  // trace's tool tables are data, and tool-options.ts formats them (node:util and the
  // modules above only): help, completion and the man page are drawn from them.
  const allowed = new Set([
    "../args.ts",
    "../command.ts",
    "../format/output.ts",
    "./trace.ts",
    "./tool-tables.ts",
    "./tool-options.ts",
  ]);
  for (const o of await describeObjects(CLI)) {
    if (!o.description) continue;
    const path = join(import.meta.dirname, `../src/cli/${o.name}/${o.name}.ts`);
    const text = readFileSync(path, "utf8");
    for (const m of text.matchAll(/^import (type )?[^;]*? from "([^"]+)";$/gms)) {
      if (m[1] || allowed.has(m[2] as string)) continue;
      assert.fail(`${o.name}/${o.name}.ts imports ${m[2]} (import it where the command runs)`);
    }
  }
});
