import assert from "node:assert/strict";
import { test } from "node:test";
import {
  parseToolArgs,
  reportSchedule,
  seconds,
  TOOL_COMMON,
  wholeNumber,
} from "./tool-options.ts";

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

test("parseToolArgs: short flags combine (-mT), an unknown option names the tool", () => {
  const spec = {
    ...TOOL_COMMON,
    m: { type: "boolean", short: "m" },
    t: { type: "boolean", short: "T" },
  } as const;
  const { values, positionals } = parseToolArgs(["-mT", "1", "2"], spec, "biolatency");
  assert.deepEqual([values.m, values.t, positionals], [true, true, ["1", "2"]]);
  assert.throws(
    () => parseToolArgs(["-q"], spec, "biolatency"),
    /trace biolatency: Unknown option '-q'/,
  );
  assert.throws(
    () => parseToolArgs(["1"], spec, "biosnoop", false),
    /trace biosnoop: .*positional/i,
  );
});
