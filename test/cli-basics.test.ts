/**
 * The `tsbpf` bin as a user meets it: version, help on every object, unknown objects,
 * commands and options, exit codes, abbreviations — run as a subprocess
 * (`node --import tsx src/cli/main.ts`), compared with bpftool where they share output.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { bpftool, compareSkip, hasBpftool, tsbpf, tsbpfProcess } from "./cli-run.ts";

test("version: bpftool's layout, plain and JSON, also as -V and abbreviated", () => {
  const r = tsbpfProcess("version");
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^tsbpf v\d+\.\d+\.\d+\nusing node v\d+\.\d+\.\d+\nfeatures: kernel, isa, elf, vm\n$/,
  );
  const j = JSON.parse(tsbpfProcess("-j", "version").stdout);
  assert.deepEqual(Object.keys(j), ["version", "node_version", "features"]);
  assert.equal(j.features.kernel, true);
  assert.equal(tsbpfProcess("-V").stdout, r.stdout);
  // Options anywhere, as getopt permutes them; objects by prefix.
  assert.deepEqual(JSON.parse(tsbpfProcess("v", "--json").stdout), j);
  const p = tsbpfProcess("-p", "version").stdout;
  assert.match(p, /^\{\n {4}"version": "/);
  if (hasBpftool) {
    const b = bpftool("-p", "version").stdout;
    assert.match(b, /^\{\n {4}"version": "/); // same pretty layout
  }
});

test("help: main and every object print usage on stderr and exit 0; JSON prints null", async () => {
  for (const args of [
    ["help"],
    ["-h"],
    ["prog", "help"],
    ["map", "help"],
    ["feature", "help"],
    ["btf", "help"],
  ]) {
    const r = await tsbpf(...args);
    assert.equal(r.code, 0, args.join(" "));
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^Usage: tsbpf /, args.join(" "));
  }
  const j = await tsbpf("-j", "map", "help");
  assert.equal(j.stdout, "null\n");
  assert.equal(j.code, 0);
  // bpftool prints nothing on stdout for help either.
  if (hasBpftool) assert.equal(bpftool("-j", "map", "help").stdout, "null\n");
});

test("errors: unknown object, command and option exit 255 like bpftool", async () => {
  const cases: string[][] = [["nosuchobject"], ["prog", "nosuchcommand"], ["map", "frobnicate"]];
  for (const args of cases) {
    const t = await tsbpf(...args);
    assert.equal(t.code, 255, args.join(" "));
    assert.match(t.stderr, /^Usage: tsbpf /);
    if (hasBpftool) {
      const b = bpftool(...args);
      assert.equal(b.code, t.code, `bpftool ${args.join(" ")}`);
      assert.equal(b.stdout, t.stdout);
    }
    const j = await tsbpf("-j", ...args);
    assert.equal(j.stdout, "null\n");
    assert.equal(j.code, 255);
  }
  const x = tsbpfProcess("-x", "version");
  assert.equal(x.code, 255);
  assert.match(x.stderr, /^Error: unrecognized option '-x'\n/);
  const xj = tsbpfProcess("-j", "-x");
  assert.equal(xj.stdout, '{"error":"unrecognized option \'-x\'"}\n');
  if (hasBpftool) assert.equal(bpftool("-j", "-x").stdout, xj.stdout);
  const unsupported = await tsbpf("struct_ops", "show");
  assert.equal(unsupported.code, 255);
  assert.match(unsupported.stderr, /^Error: object 'struct_ops' is not supported by tsbpf yet\n/);
});

test("bad syntax gives bpftool's messages, plain on stderr and JSON on stdout", async () => {
  const cases: [string[], string][] = [
    [["prog", "show", "id", "abc"], "can't parse abc as ID"],
    [["prog", "show", "foo", "1"], "expected 'id', 'tag', 'name' or 'pinned', got: 'foo'?"],
    [["prog", "show", "id"], "what is 'id'?"],
    [["prog", "show", "tag", "zz"], "can't parse tag"],
    [["map", "show", "tag", "1"], "expected 'id', 'name' or 'pinned', got: 'tag'?"],
    [
      ["map", "create", "/sys/fs/bpf/x", "type", "hash"],
      "'create' needs at least 7 arguments, 3 found",
    ],
  ];
  for (const [args, message] of cases) {
    const t = await tsbpf(...args);
    assert.equal(t.code, 255, args.join(" "));
    assert.equal(t.stderr, `Error: ${message}\n`);
    const j = await tsbpf("-j", ...args);
    assert.equal(j.stdout, `${JSON.stringify({ error: message })}\n`);
    if (hasBpftool) {
      const b = bpftool(...args);
      assert.equal(b.stderr, t.stderr, `bpftool ${args.join(" ")}`);
      assert.equal(b.code, t.code);
    }
  }
});

test("kernel errors: missing ids and pins, compared with bpftool", {
  skip: compareSkip,
}, async () => {
  const cases: string[][] = [
    ["prog", "show", "id", "4000000000"],
    ["map", "show", "id", "4000000000"],
    ["prog", "show", "pinned", "/sys/fs/bpf/tsbpf-no-such-pin"],
    ["map", "dump", "pinned", "/sys/fs/bpf/tsbpf-no-such-pin"],
    ["btf", "show", "id", "4000000000"],
    ["prog", "pin", "id", "1"],
  ];
  for (const args of cases) {
    const t = await tsbpf(...args);
    const b = bpftool(...args);
    assert.equal(t.stderr, b.stderr, args.join(" "));
    assert.equal(t.stdout, b.stdout, args.join(" "));
    assert.equal(t.code, b.code, args.join(" "));
  }
});

test("the bin exits with the code main() returns", { skip: compareSkip }, () => {
  const r = tsbpfProcess("p", "s", "id", "4000000000");
  assert.equal(r.code, 255);
  assert.equal(r.stderr, "Error: get by id (4000000000): No such file or directory\n");
});
