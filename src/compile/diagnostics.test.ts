import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDiagnostic, parseDiagnostics } from "./diagnostics.ts";
import { parseDepFile } from "./object-cache.ts";

test("clang's diagnostics: placed, unplaced, flags, notes, and the source renamed", () => {
  const stderr = [
    "In file included from x.bpf.c:2:",
    "/usr/include/bpf/h.h:7:1: warning: unused function 'f' [-Wunused-function]",
    "x.bpf.c:3:9: error: expected expression",
    "    3 | int x = ;",
    "      |         ^",
    "x.bpf.c:1:2: note: previous definition is here",
    "x.bpf.c:5: error: no column",
    "clang-19: error: unknown argument: '-mfoo'",
    "2 errors generated.",
  ].join("\n");
  const { diagnostics, stderr: renamed } = parseDiagnostics(
    stderr,
    new Map([["x.bpf.c", "<source>"]]),
  );
  assert.deepEqual(diagnostics, [
    {
      file: "/usr/include/bpf/h.h",
      line: 7,
      column: 1,
      severity: "warning",
      message: "unused function 'f'",
      flag: "-Wunused-function",
    },
    { file: "<source>", line: 3, column: 9, severity: "error", message: "expected expression" },
    {
      file: "<source>",
      line: 1,
      column: 2,
      severity: "note",
      message: "previous definition is here",
    },
    { file: "<source>", line: 5, severity: "error", message: "no column" },
    { severity: "error", message: "unknown argument: '-mfoo'" },
  ]);
  assert.match(renamed, /^In file included from <source>:2:$/m);
  assert.match(renamed, /^<source>:3:9: error: expected expression$/m);
  assert.doesNotMatch(renamed, /x\.bpf\.c/);
  assert.equal(
    formatDiagnostic(diagnostics[0]!),
    "/usr/include/bpf/h.h:7:1: warning: unused function 'f' [-Wunused-function]",
  );
  assert.equal(formatDiagnostic(diagnostics[3]!), "<source>:5: error: no column");
  assert.equal(formatDiagnostic(diagnostics[4]!), "error: unknown argument: '-mfoo'");
  assert.equal(
    formatDiagnostic({ severity: "fatal", message: "m", file: "a", line: 1, column: 2 }),
    "a:1:2: fatal error: m",
  );
});

test("a make rule from clang -MD: continuation lines, escaped spaces and dollars", () => {
  assert.deepEqual(
    parseDepFile("object.o: x.bpf.c /usr/include/linux/bpf.h \\\n  /a\\ b/c.h /d$$e.h\n"),
    ["x.bpf.c", "/usr/include/linux/bpf.h", "/a b/c.h", "/d$e.h"],
  );
  assert.deepEqual(parseDepFile(""), []);
});
