import assert from "node:assert/strict";
import { test } from "node:test";
import type { OptionDescription } from "../command.ts";
import { parseToolArgs, reportSchedule, seconds, toolUsage, wholeNumber } from "./tool-options.ts";
import { BIOLATENCY_OPTIONS } from "./tool-tables.ts";

test("reportSchedule: BCC's interval and count, --duration; bad ones name themselves", () => {
  assert.deepEqual(reportSchedule([], "t"), {});
  assert.deepEqual(reportSchedule(["1", "5"], "t"), { intervalSeconds: 1, count: 5 });
  assert.deepEqual(reportSchedule(["0.5"], "t", "3"), { intervalSeconds: 0.5, durationSeconds: 3 });
  assert.throws(
    () => reportSchedule(["1", "2", "3"], "runqlat"),
    /trace runqlat: unexpected argument '3'/,
  );
  assert.throws(() => reportSchedule(["0"], "t"), /interval takes seconds greater than 0, not '0'/);
  assert.throws(
    () => reportSchedule(["1", "x"], "t"),
    /count must be a whole number from 1 to \d+, not 'x'/,
  );
  assert.throws(() => reportSchedule([], "t", "-1"), /--duration takes seconds/);
  assert.equal(seconds("2.5", "s"), 2.5);
  assert.equal(wholeNumber("7", "n"), 7);
});

test("parseToolArgs: by an option table: short flags combine (-mT), values typed, errors name the tool", () => {
  const table = [
    { long: "milliseconds", short: "m", summary: "ms" },
    { long: "timestamp", short: "T", summary: "ts" },
    { long: "pid", value: "PID", summary: "pid" },
  ] as const;
  const { values, positionals } = parseToolArgs(
    ["-mT", "--pid", "7", "1", "2"],
    table,
    "biolatency",
  );
  assert.deepEqual(
    [values.milliseconds, values.timestamp, values.pid, positionals],
    [true, true, "7", ["1", "2"]],
  );
  assert.throws(
    () => parseToolArgs(["-q"], table, "biolatency"),
    /trace biolatency: Unknown option '-q'/,
  );
  assert.throws(
    () => parseToolArgs(["-p", "1"], table, "runqlat"),
    /trace runqlat: Unknown option '-p' \(-p is the global --pretty; a process is --pid PID\)/,
  );
  assert.throws(() => parseToolArgs(["--pid"], table, "x"), /trace x: .*--pid/);
  assert.throws(
    () => parseToolArgs(["1"], table, "biosnoop", false),
    /trace biosnoop: .*positional/i,
  );
});

test("toolUsage: synopsis wrapped before 80 columns, one line per option, the operands", () => {
  const text = toolUsage(
    "tsbpf",
    "biolatency",
    "Block I/O latency.",
    BIOLATENCY_OPTIONS,
    "[interval [count]]",
    "  interval [count]  every\n",
  );
  const lines = text.split("\n");
  assert.match(lines[0] ?? "", /^Usage: tsbpf trace biolatency \[-T\] \[-Q\] \[-m\] \[-D\]/);
  for (const l of lines) assert.ok(l.length < 80, l);
  assert.match(text, /\[interval \[count\]\]\n\nBlock I\/O latency\.\n\n/);
  for (const o of BIOLATENCY_OPTIONS as readonly OptionDescription[]) {
    assert.match(text, new RegExp(`\\n  ${o.short ? `-${o.short}, ` : ""}--${o.long}`), o.long);
  }
  assert.match(text, /\n {2}interval \[count\] {2}every\n/);
});
