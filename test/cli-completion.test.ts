/**
 * `tsbpf completion bash|zsh`: the scripts load in the real shells, and driving their
 * completion functions the way the shells do (COMP_WORDS/COMP_CWORD for bash,
 * words/CURRENT and compadd for zsh) offers the objects, commands, keywords and
 * options of the command table, with bpftool's prefix rule (`tsbpf p s` is `prog show`).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { describeObjects } from "../src/cli/describe-cli.ts";
import { CLI } from "../src/cli/main.ts";
import { tsbpf } from "./cli-run.ts";
import { toolSkip } from "./support/kernel.ts";

const ROOT = resolve(import.meta.dirname, "..");
let dir = "";
let bashFile = "";
let zshFile = "";

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tsbpf-completion-"));
  for (const shell of ["bash", "zsh"]) {
    const r = await tsbpf("completion", shell);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    writeFileSync(join(dir, shell), r.stdout);
  }
  bashFile = join(dir, "bash");
  zshFile = join(dir, "zsh");
  mkdirSync(join(dir, "files"));
  writeFileSync(join(dir, "files", "prog.o"), "");
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** What bash's completion offers for the command line `line` (cursor at its end). */
function bashComplete(line: string): string[] {
  const words = line.split(" ");
  const script = `source ${JSON.stringify(bashFile)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})
COMP_CWORD=${words.length - 1}
_tsbpf
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["--norc", "-c", script], { encoding: "utf8", cwd: dir });
  assert.equal(r.stderr, "", `bash: ${line}`);
  assert.equal(r.status, 0, `bash: ${line}`);
  return r.stdout.split("\n").filter(Boolean).sort();
}

/** The kernel matrix's guests (busybox) have no bash. */
const bashSkip = toolSkip("bash");

test("bash: the script parses (bash -n) and loads from the real bin as the README says", {
  skip: bashSkip,
}, () => {
  const n = spawnSync("bash", ["-n", bashFile], { encoding: "utf8" });
  assert.equal(n.stderr, "");
  assert.equal(n.status, 0);
  const main = join(ROOT, "src/cli/main.ts");
  const cmd = `source <(${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(main)} completion bash); complete -p tsbpf`;
  const r = spawnSync("bash", ["--norc", "-c", cmd], { encoding: "utf8", cwd: ROOT });
  assert.equal(r.stderr, "");
  assert.equal(r.status, 0);
  assert.equal(r.stdout, "complete -F _tsbpf tsbpf\n");
});

test("bash: objects, commands and keywords by bpftool's prefix rule", { skip: bashSkip }, () => {
  const cases: [string, string[]][] = [
    ["tsbpf pr", ["prog"]],
    ["tsbpf prog s", ["show"]],
    ["tsbpf p", ["perf", "playground", "prog"]],
    ["tsbpf p s", ["show"]], // p is prog (bpftool's order), s its show
    ["tsbpf -j prog sh", ["show"]], // global options are skipped
    ["tsbpf -B btf.raw b", ["btf"]], // and so is an option's value; batch is not offered
    ["tsbpf prog show ", ["id", "name", "pinned", "tag"]],
    ["tsbpf prog show id ", []], // an id: nothing to offer
    ["tsbpf prog dump x", ["xlated"]],
    ["tsbpf map up", ["update"]],
    ["tsbpf map update id 3 key 1 0 0 0 value 2 0 0 0 n", ["name", "noexist"]],
    ["tsbpf feature ", ["help", "probe"]], // list_builtins is not supported: not offered
    ["tsbpf completion ", ["bash", "zsh"]],
    ["tsbpf help v", ["vm"]],
    ["tsbpf vm run --", ["--elf", "--mem"]],
    ["tsbpf trace open --p", ["--perf-buffer", "--pid"]],
    ["tsbpf -", CLI.options.flatMap((o) => [`-${o.short}`, `--${o.long}`]).sort()],
    ["tsbpf nosuch ", []],
    // An object that is one command: its options and file names, no commands.
    ["tsbpf compile --t", ["--target"]],
    ["tsbpf compile -D ", []],
    ["tsbpf compl", ["completion"]],
  ];
  for (const [line, expected] of cases) assert.deepEqual(bashComplete(line), expected, line);
  // Under trace, only trace's own options: -p and -d are not offered there.
  const traceOptions = bashComplete("tsbpf trace open -");
  assert.ok(traceOptions.includes("--duration") && traceOptions.includes("-x"));
  assert.ok(!traceOptions.includes("-p") && !traceOptions.includes("-d"), String(traceOptions));
});

test("bash: every trace tool's options come from its table (the one its parser reads)", {
  skip: bashSkip,
}, () => {
  const biolatency = bashComplete("tsbpf trace biolatency -");
  for (const o of ["-D", "-Q", "-m", "-T", "-F", "-e", "--disks", "--flags", "--disk", "-h"]) {
    assert.ok(biolatency.includes(o), `${o} in ${biolatency}`);
  }
  assert.ok(!biolatency.includes("-p") && !biolatency.includes("-d"), String(biolatency));
  assert.deepEqual(bashComplete("tsbpf trace killsnoop --t"), ["--tpid"]);
  assert.deepEqual(
    bashComplete("tsbpf trace tcpretrans -"),
    ["-l", "--lossprobe", "-c", "--count", "-4", "--ipv4", "-6", "--ipv6"]
      .concat(["--duration", "-j", "--json", "--perf-buffer", "-h", "--help"])
      .sort(),
  );
  // An option that takes a value offers nothing after it (a PID is not a file name).
  assert.deepEqual(bashComplete("tsbpf trace killsnoop --pid "), []);
});

test("bash: file names after path keywords and for file operands", { skip: bashSkip }, () => {
  assert.deepEqual(bashComplete("tsbpf prog show pinned files/p"), ["files/prog.o"]);
  assert.deepEqual(bashComplete("tsbpf prog load files/"), ["files/prog.o"]);
  assert.deepEqual(bashComplete("tsbpf -B files/p"), ["files/prog.o"]);
  assert.deepEqual(bashComplete("tsbpf compile files/"), ["files/prog.o"]);
  assert.deepEqual(bashComplete("tsbpf compile x.bpf.c -I files/p"), ["files/prog.o"]);
  assert.deepEqual(bashComplete("tsbpf vm run files/prog.o x data_in files/"), ["files/prog.o"]);
});

test("bash: every object's supported commands are offered, from the command table", {
  skip: bashSkip,
}, async () => {
  for (const o of await describeObjects(CLI)) {
    // (help's words are objects; compile, an object that is one command, takes files.)
    if (!o.description?.commands.length || o.name === "help") continue;
    const commands = o.description.commands.filter((c) => !c.unsupported).map((c) => c.name);
    assert.deepEqual(bashComplete(`tsbpf ${o.name} `), commands.sort(), o.name);
  }
});

const zshSkip = toolSkip("zsh");

/** What the zsh script hands compadd (zsh itself then matches the typed prefix). */
function zshComplete(line: string): string[] {
  const words = line.split(" ");
  const script = `compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@" }
_files() { print -r -- FILES }
source ${JSON.stringify(zshFile)}
words=(${words.map((w) => `'${w}'`).join(" ")})
CURRENT=${words.length}
_tsbpf`;
  const r = spawnSync("zsh", ["-f", "-c", script], { encoding: "utf8", cwd: dir });
  assert.equal(r.stderr, "", `zsh: ${line}`);
  const cur = words.at(-1) ?? "";
  return r.stdout
    .split("\n")
    .filter((w) => w && (w === "FILES" || w.startsWith(cur)))
    .sort();
}

describe("zsh", { skip: zshSkip }, () => {
  test("the script parses (zsh -n) and loads without compinit", () => {
    const n = spawnSync("zsh", ["-n", zshFile], { encoding: "utf8" });
    assert.equal(n.stderr, "");
    assert.equal(n.status, 0);
    const r = spawnSync("zsh", ["-f", "-c", `source ${JSON.stringify(zshFile)}`], {
      encoding: "utf8",
    });
    assert.equal(r.stderr, "");
    assert.equal(r.status, 0);
  });

  test("objects, commands, keywords and files as in bash", () => {
    const cases: [string, string[]][] = [
      ["tsbpf pr", ["prog"]],
      ["tsbpf prog s", ["show"]],
      ["tsbpf p s", ["show"]],
      ["tsbpf -j prog sh", ["show"]],
      ["tsbpf prog show ", ["id", "name", "pinned", "tag"]],
      ["tsbpf prog show id ", []],
      ["tsbpf prog show pinned ", ["FILES"]],
      [
        "tsbpf prog load ",
        ["FILES", "autoattach", "idx", "log_level", "map", "name", "pinmaps", "type"],
      ],
      ["tsbpf trace open --p", ["--perf-buffer", "--pid"]],
      ["tsbpf completion ", ["bash", "zsh"]],
      ["tsbpf compile -o ", ["FILES"]],
    ];
    for (const [line, expected] of cases) assert.deepEqual(zshComplete(line), expected, line);
  });
});

test("completion: a shell is required and must be one it knows", async () => {
  const none = await tsbpf("completion");
  assert.equal(none.code, 255);
  assert.match(none.stderr, /^Error: which shell\? \(bash or zsh\)\nUsage: tsbpf completion/);
  const fish = await tsbpf("completion", "fihs");
  assert.equal(fish.code, 255);
  assert.match(fish.stderr, /^Error: unknown command 'fihs'\n/);
  const help = await tsbpf("completion", "--help");
  assert.match(help.stdout, /^Usage: tsbpf completion \{ bash \| zsh \}\n/);
});
