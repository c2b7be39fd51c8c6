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

test("help: main and every object print usage on stdout and exit 0; JSON prints null", async () => {
  for (const args of [
    ["help"],
    ["-h"],
    ["--help"],
    [],
    ["prog", "help"],
    ["map", "help"],
    ["feature", "help"],
    ["btf", "help"],
    ["perf", "help"],
  ]) {
    const r = await tsbpf(...args);
    assert.equal(r.code, 0, args.join(" "));
    assert.equal(r.stderr, "", args.join(" "));
    assert.match(r.stdout, /^Usage: tsbpf /, args.join(" "));
  }
  const j = await tsbpf("-j", "map", "help");
  assert.equal(j.stdout, "null\n");
  assert.equal(j.code, 0);
  // bpftool prints nothing on stdout for help either.
  if (hasBpftool) assert.equal(bpftool("-j", "map", "help").stdout, "null\n");
  // As a user pipes it (the real bin, a pipe for stdout).
  const piped = tsbpfProcess("prog", "help");
  assert.equal(piped.code, 0);
  assert.match(piped.stdout, /^ {7}tsbpf prog run PROG \\$/m);
});

test("help at every level: -h, --help and help OBJECT [COMMAND] print the usage named", async () => {
  const prog = (await tsbpf("prog", "help")).stdout;
  const vm = (await tsbpf("vm", "help")).stdout;
  const vmRun = (await tsbpf("vm", "run", "--help")).stdout;
  assert.match(vmRun, /^Usage: tsbpf vm run \[--mem HEX\]/);
  assert.doesNotMatch(vmRun, /vm verify/, "vm run's own usage, not vm's");
  const same: [string[], string][] = [
    [["prog", "-h"], prog],
    [["--help", "prog"], prog],
    [["help", "prog"], prog],
    [["p", "s", "--help"], prog], // show has no usage of its own: its object's
    [["vm", "--help"], vm],
    [["vm", "run", "-h"], vmRun],
    [["vm", "run", "help"], vmRun],
    [["help", "vm", "run"], vmRun],
  ];
  for (const [args, text] of same) {
    const r = await tsbpf(...args);
    assert.equal(r.stdout, text, args.join(" "));
    assert.equal(r.stderr, "", args.join(" "));
    assert.equal(r.code, 0, args.join(" "));
  }
  for (const args of [
    ["-j", "help"],
    ["-j", "vm", "run", "--help"],
    ["-j", "help", "prog"],
  ]) {
    const r = await tsbpf(...args);
    assert.deepEqual([r.stdout, r.code], ["null\n", 0], args.join(" "));
  }
  const unknown = await tsbpf("help", "porg");
  assert.equal(unknown.code, 255);
  assert.match(unknown.stderr, /^Error: unknown object 'porg'; did you mean 'prog'\?\n/);
});

test("errors: unknown words name the word and the closest match, exit 255 like bpftool", async () => {
  const cases: [string[], string][] = [
    [
      ["prog", "shwo"],
      "Error: unknown command 'shwo'; did you mean 'show'?\nRun 'tsbpf prog help' for the list of commands.\n",
    ],
    [
      ["porg", "show"],
      "Error: unknown object 'porg'; did you mean 'prog'?\nRun 'tsbpf help' for the list of objects.\n",
    ],
    [
      ["map", "lokup"],
      "Error: unknown command 'lokup'; did you mean 'lookup'?\nRun 'tsbpf map help' for the list of commands.\n",
    ],
    // Two as close: both named, in the table's order.
    [
      ["map", "pon"],
      "Error: unknown command 'pon'; did you mean 'pin' or 'pop'?\nRun 'tsbpf map help' for the list of commands.\n",
    ],
    // Nothing close: no guess.
    [
      ["map", "frobnicate"],
      "Error: unknown command 'frobnicate'\nRun 'tsbpf map help' for the list of commands.\n",
    ],
    [
      ["nosuchobject"],
      "Error: unknown object 'nosuchobject'\nRun 'tsbpf help' for the list of objects.\n",
    ],
    // Unsupported words are matched (bpftool's order) but never suggested.
    [
      ["vm", "veriyf"],
      "Error: unknown command 'veriyf'; did you mean 'verify'?\nRun 'tsbpf vm help' for the list of commands.\n",
    ],
  ];
  for (const [args, stderr] of cases) {
    const t = await tsbpf(...args);
    assert.equal(t.stderr, stderr, args.join(" "));
    assert.equal(t.stdout, "", args.join(" "));
    assert.equal(t.code, 255, args.join(" "));
    if (hasBpftool) assert.equal(bpftool(...args).code, t.code, `bpftool ${args.join(" ")}`);
    const j = await tsbpf("-j", ...args);
    const message = stderr.split("\n")[0]?.replace(/^Error: /, "");
    assert.equal(j.stdout, `${JSON.stringify({ error: message })}\n`);
    assert.equal(j.code, 255);
  }
  // The bin, through a real process: `tsbpf prog shwo` as the issue reports it.
  const shwo = tsbpfProcess("prog", "shwo");
  assert.equal(shwo.code, 255);
  assert.match(shwo.stderr, /^Error: unknown command 'shwo'; did you mean 'show'\?\n/);
  const x = tsbpfProcess("-x", "version");
  assert.equal(x.code, 255);
  assert.match(x.stderr, /^Error: unrecognized option '-x'\nUsage: tsbpf /);
  const xj = tsbpfProcess("-j", "-x");
  assert.equal(xj.stdout, '{"error":"unrecognized option \'-x\'"}\n');
  if (hasBpftool) assert.equal(bpftool("-j", "-x").stdout, xj.stdout);
  const unsupported = await tsbpf("struct_ops", "show");
  assert.equal(unsupported.code, 255);
  assert.match(unsupported.stderr, /^Error: object 'struct_ops' is not supported by tsbpf yet\n/);
  // A usage error inside a command still prints the object's usage on stderr, as bpftool.
  const usage = await tsbpf("btf", "dump");
  assert.equal(usage.code, 255);
  assert.match(
    usage.stderr,
    /^Error: 'dump' needs at least 2 arguments, 0 found\nUsage: tsbpf btf /,
  );
  assert.equal(usage.stdout, "");
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
