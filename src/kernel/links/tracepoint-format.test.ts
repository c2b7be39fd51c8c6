import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import {
  parseTracepointFormat,
  readTracepointFormat,
  tracepointField,
} from "./tracepoint-format.ts";

// block_rq_issue's format as Linux 6.1 prints it (rwbs[8], no ioprio).
const V61 = `name: block_rq_issue
ID: 1234
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:dev_t dev;\toffset:8;\tsize:4;\tsigned:0;
\tfield:sector_t sector;\toffset:16;\tsize:8;\tsigned:0;
\tfield:unsigned int nr_sector;\toffset:24;\tsize:4;\tsigned:0;
\tfield:unsigned int bytes;\toffset:28;\tsize:4;\tsigned:0;
\tfield:char rwbs[8];\toffset:32;\tsize:8;\tsigned:0;
\tfield:char comm[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:__data_loc char[] cmd;\toffset:56;\tsize:4;\tsigned:0;

print fmt: "%d,%d %s %u (%s) %llu + %u [%s]", REC->dev
`;

test("parseTracepointFormat: names, offsets, sizes and signedness of each field", () => {
  const f = parseTracepointFormat(V61);
  assert.deepEqual(
    f.map((x) => [x.name, x.offset, x.size, x.signed]),
    [
      ["common_type", 0, 2, false],
      ["common_pid", 4, 4, true],
      ["dev", 8, 4, false],
      ["sector", 16, 8, false],
      ["nr_sector", 24, 4, false],
      ["bytes", 28, 4, false],
      ["rwbs", 32, 8, false],
      ["comm", 40, 16, false],
      ["cmd", 56, 4, false],
    ],
  );
  assert.equal(f[6]?.declaration, "char rwbs[8]");
});

test("parseTracepointFormat: a broken field line is an error naming the line", () => {
  assert.throws(
    () => parseTracepointFormat("format:\n\tfield:int x;\toffset:zz;\n", "f"),
    /f:2: cannot parse field line 'field:int x;\toffset:zz;'/,
  );
  assert.throws(() => parseTracepointFormat("name: x\n", "f"), /f: no field lines/);
});

test("tracepointField: a missing field or a wrong size names the tracepoint", () => {
  const f = parseTracepointFormat(V61);
  assert.equal(tracepointField(f, "sector", "block:block_rq_issue", 8).offset, 16);
  assert.throws(
    () => tracepointField(f, "ioprio", "block:block_rq_issue"),
    /block:block_rq_issue: the record has no field 'ioprio'/,
  );
  assert.throws(() => tracepointField(f, "dev", "b", 8), /b: field 'dev' is 4 bytes, expected 8/);
});

test("readTracepointFormat: this kernel's sched_switch has prev_pid and next_pid", {
  skip: existsSync("/sys/kernel/tracing/events/sched/sched_switch") ? false : "no tracefs",
}, () => {
  const f = readTracepointFormat("sched", "sched_switch");
  assert.equal(tracepointField(f, "prev_pid", "sched_switch", 4).signed, true);
  assert.equal(tracepointField(f, "next_comm", "sched_switch", 16).offset > 8, true);
});
