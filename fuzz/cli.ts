/**
 * CLI fuzzer: the in-process `main()` of src/cli/main.ts on random and mutated argument
 * lists for the commands that need no kernel — `btf dump file`, `gen types`, `vm load`,
 * `vm run` — with real objects, mutated objects, devices, directories and missing
 * files, hostile numbers and strings. An exit code of 0 is ok; a non-zero exit with a
 * tsbpf error is typed; a JavaScript error surfacing as the message (`TypeError`,
 * `Invalid typed array length`, ...) or thrown out of `main()` is a failure.
 *
 * `npm run fuzz -- cli [--seconds N] [--seed S]`
 *
 * @module
 */

import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import { main } from "../src/cli/main.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { campaign, type FuzzOptions, type FuzzReport, writeRepro } from "./harness.ts";
import { mutate, objectCorpus, sectionHeaders } from "./mutate.ts";
import { Rng } from "./rng.ts";

const corpus = objectCorpus().map((o) => {
  const btf = sectionHeaders(o.bytes).find((s) => s.name === ".BTF");
  let programs: string[] = [];
  try {
    programs = Object.keys(loadCollectionSpec(o.bytes).programs);
  } catch {
    // an object the loader refuses is still input
  }
  return { ...o, programs, btf: btf && { offset: btf.offset, size: btf.size } };
});

/** JavaScript errors that must never be what the user reads. */
const UNTYPED =
  /TypeError|RangeError|ReferenceError|SyntaxError|Cannot read prop|is not a function|is not iterable|Invalid (typed )?array length|Invalid string length|Maximum call stack|outside the bounds|out of memory|undefined|NaN/;

const NUMBERS = [
  "0",
  "1",
  "-1",
  "4294967295",
  "4294967296",
  "99999999999999999999",
  "0x10",
  "0xffffffffffffffff",
  "1e9",
  "NaN",
  "-0",
  "010",
  "",
  " ",
  "18446744073709551615",
  "2147483648",
];
const WORDS = [
  "format",
  "c",
  "raw",
  "name",
  "module",
  "data_in",
  "data_out",
  "ctx_in",
  "ctx_out",
  "repeat",
  "-",
  "--",
  "-j",
  "-p",
  "--mem",
  "--debug",
  "file",
  "types",
  "xdp_count",
  "nope",
  "%s%n%x",
  "\u00e9\u0000",
  "a".repeat(5000),
  "../../etc/passwd",
];
// Not /sys/kernel/btf/vmlinux: dumping 130,000 types is seconds of honest work, which
// the watchdog would call a hang.
const PATHS = ["/dev/zero", "/dev/null", "/dev/urandom", "/tmp", "/nonexistent/x", ""];

/** Where this worker writes its mutated objects and captures stderr. */
const work = join(tmpdir(), `tsbpf-fuzz-cli-${process.pid}-${threadId}`);

/** Input `index` of `seed`: an argument list, and the mutated object it names (if any). */
export function makeInput(seed: number, index: number): { args: string[]; object?: Uint8Array } {
  const rng = new Rng(seed, index);
  const base = corpus[rng.below(corpus.length)]!;
  const mutated = rng.chance(0.6) ? mutate(rng, base.bytes, base.btf) : undefined;
  const objPath = mutated ? join(work, "obj.o") : rng.chance(0.8) ? base.path : rng.pick(PATHS);
  const prog =
    base.programs.length > 0 && rng.chance(0.8) ? rng.pick(base.programs) : rng.pick(WORDS);
  const any = () =>
    rng.chance(0.5) ? rng.pick(NUMBERS) : rng.chance(0.5) ? rng.pick(WORDS) : rng.pick(PATHS);
  let args: string[];
  switch (rng.below(5)) {
    case 0:
      args = [
        "btf",
        "dump",
        "file",
        objPath,
        ...(rng.chance(0.7) ? ["format", rng.pick(["c", "raw", any()])] : []),
      ];
      break;
    case 1:
      args = ["gen", "types", objPath, ...(rng.chance(0.3) ? ["name", any()] : [])];
      break;
    case 2:
      args = ["vm", "load", objPath];
      break;
    case 3:
      args = ["vm", "run", objPath, prog];
      if (rng.chance(0.5)) args.push("data_in", rng.chance(0.5) ? base.path : rng.pick(PATHS));
      if (rng.chance(0.3)) args.push("repeat", rng.pick(NUMBERS));
      break;
    default:
      args = [rng.pick(["btf", "vm", "gen"]), ...Array.from({ length: rng.below(6) }, any)];
  }
  // Argument-level mutations: drop, duplicate, or replace a word; global flags.
  for (let k = rng.below(3); k > 0 && args.length > 0; k--) {
    const at = rng.below(args.length);
    const op = rng.below(3);
    if (op === 0) args.splice(at, 1);
    else if (op === 1) args.splice(at, 0, args[at]!);
    else args[at] = any();
  }
  if (rng.chance(0.2)) args.unshift(rng.pick(["-j", "-p", "--debug"]));
  // vm run would wait on a terminal's stdin for a program: never give it that form.
  if (args[0] === "vm" && args[1] === "run" && args.length < 4) args.push(prog, "repeat", "1");
  return mutated ? { args, object: mutated } : { args };
}

class TypedExit extends Error {}

let errFd = -1;
let outFd = -1;

function ensureFds(): void {
  if (errFd >= 0) return;
  mkdirSync(work, { recursive: true });
  errFd = openSync(join(work, "stderr"), "w+");
  outFd = openSync("/dev/null", "w");
  process.on("exit", () => rmSync(work, { recursive: true, force: true }));
}

export async function runInput(seed: number, index: number): Promise<void> {
  ensureFds();
  const { args, object } = makeInput(seed, index);
  if (object) writeFileSync(join(work, "obj.o"), object);
  ftruncateSync(errFd, 0);
  const code = await main(args, { out: outFd, err: errFd });
  if (code === 0) return;
  const err = readFileSync(join(work, "stderr"), "utf8");
  const line = err.split("\n").find((l) => l.startsWith("Error:")) ?? err.split("\n")[0] ?? "";
  // The user's own words echoed back ("can't parse NaN") are not the program's.
  let mine = err;
  for (const a of args) if (a.length > 0) mine = mine.split(a).join("");
  if (UNTYPED.test(mine)) throw new Error(`exit ${code}: ${line.slice(0, 300)}`);
  throw new TypedExit(line);
}

export function isTyped(e: unknown): boolean {
  return e instanceof TypedExit;
}

/** Imports the commands' modules (main() loads them on first use). */
export async function warmUp(): Promise<void> {
  const o = corpus[0]!.path;
  for (const args of [
    ["btf", "dump", "file", o, "format", "c"],
    ["gen", "types", o],
    ["vm", "load", o],
    ["vm", "run", o, "x", "repeat", "1"],
  ]) {
    try {
      ensureFds();
      await main(args, { out: outFd, err: errFd });
    } catch {
      // warming up only
    }
  }
}

/** Runs the CLI campaign. */
export function fuzz(opts: FuzzOptions = {}): Promise<FuzzReport> {
  return campaign(
    {
      name: "cli",
      module: import.meta.url,
      reproduce: (seed, index) => {
        const { args, object } = makeInput(seed, index);
        let file: string | undefined;
        if (object) file = writeRepro(`cli-${seed}-${index}.o`, object);
        const quoted = args.map((a) =>
          file && a.endsWith("/obj.o") ? file : `'${a.replace(/'/g, "'\\''").slice(0, 200)}'`,
        );
        return {
          file: file ?? "(no input file)",
          command: `npm run tsbpf -- ${quoted.join(" ")}`,
        };
      },
    },
    opts,
  );
}

// A worker closes its descriptors when it ends.
process.on("exit", () => {
  if (errFd >= 0) closeSync(errFd);
  if (outFd >= 0) closeSync(outFd);
});
