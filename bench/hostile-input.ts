/**
 * Hostile input (issue 9) against benign input of the same shape, through the same
 * entry point, measured in the same run: each reproduction in test/btf-hostile,
 * test/parser-limits and test/vm-format-width once crawled (a .BTF str_len of 0x3fffffff
 * loaded in 15.6 s; the C dump of a 4 GiB struct built 3.6 GB before its first byte),
 * hung or blew the stack. The tests prove that the bounded path is taken; this says
 * what it costs. A ratio near 1 (or below: most hostile inputs are refused before the
 * work a benign one gets) is the goal; the old behaviour was thousands.
 *
 * Times are per call, the best of several batches (these machines are shared and noisy).
 * The inputs come from test/support/hostile-inputs.ts, the builders the tests use.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BTFError, dumpC, dumpCTo, parseBTF, StringTable } from "../src/btf/index.ts";
import { main } from "../src/cli/main.ts";
import { ELFError, loadCollectionSpec } from "../src/elf/index.ts";
import { assemble, MAX_ASM_LINE } from "../src/isa/assemble.ts";
import { AssemblerError } from "../src/isa/errors.ts";
import { formatPrintk, PRINTK_LINE_MAX } from "../src/vm/helpers-printk.ts";
import { BPRINTF_TEXT_MAX, formatBprintf, parseBprintf } from "../src/vm/helpers-string.ts";
import type { Machine } from "../src/vm/interpreter.ts";
import {
  BSS_OBJ,
  HEADER_PAST_DATA,
  HUGE_WIDTHS,
  hugeStructBTF,
  KITCHEN_OBJ,
  longAsmLine,
  memberPastStructObject,
  modifierChainBTF,
  modifierLoopBTF,
  objectWithBss,
  objectWithBTFHeader,
  oneLongString,
  ordinaryAsm,
  pointerChainBTF,
  pointerLoopBTF,
  shortStrings,
  strLenObject,
  structBTF,
} from "../test/support/hostile-inputs.ts";
import type { BenchResult } from "./result.ts";

/** How many calls of `fn` make a batch of at least ~10 ms. */
function batchSize(fn: () => void): number {
  let n = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    const ms = performance.now() - t;
    if (ms >= 10 || n >= 1 << 20) return n;
    n *= ms < 1 ? 16 : 2;
  }
}

/** Milliseconds per call of `a` and of `b`: batches taken in turn, the best of `batches` each. */
function perCall(a: () => void, b: () => void, batches = 9): [number, number] {
  const sizes = [batchSize(a), batchSize(b)];
  const best = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  for (let k = 0; k < batches * 2; k++) {
    const which = k % 2;
    const fn = which === 0 ? a : b;
    const n = sizes[which] as number;
    const t = performance.now();
    for (let i = 0; i < n; i++) fn();
    best[which] = Math.min(best[which] as number, (performance.now() - t) / n);
  }
  return best as [number, number];
}

/** `fn` wrapped to swallow the error it must throw (and to fail the bench if it does not). */
function refused(fn: () => unknown, kind: new (...args: never[]) => Error): () => void {
  return () => {
    try {
      fn();
    } catch (e) {
      if (e instanceof kind) return;
      throw e;
    }
    throw new Error(`expected a ${kind.name}`);
  };
}

/** One row: hostile vs benign time per call, both in ms. */
function row(name: string, hostile: () => void, benign: () => void, goal: string): BenchResult {
  hostile(); // warm both up (and check the hostile one takes its bounded path)
  benign();
  const [value, baseline] = perCall(hostile, benign);
  return { name, value, baseline, ratio: value / baseline, goal, unit: "ms" };
}

/** The worst ratio of several hostile inputs, each against its benign twin. */
function worst(name: string, pairs: [() => void, () => void][], goal: string): BenchResult {
  const rows = pairs.map(([h, b]) => row(name, h, b, goal));
  return rows.reduce((x, y) => (y.ratio > x.ratio ? y : x));
}

/** ms per MB of C text for the first `limit` characters of the dump of `btf`. */
function dumpMsPerMB(btf: ReturnType<typeof parseBTF>, limit: number): number {
  const stop = new Error("enough");
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 5; run++) {
    let seen = 0;
    const t = performance.now();
    try {
      dumpCTo(btf, (chunk) => {
        seen += chunk.length;
        if (seen >= limit) throw stop;
      });
    } catch (e) {
      if (e !== stop) throw e;
    }
    best = Math.min(best, (performance.now() - t) / (seen / 1e6));
  }
  return best;
}

/** Runs `tsbpf ARGS` in this process, output to /dev/null; its exit code. */
async function cli(args: string[]): Promise<number> {
  const out = openSync("/dev/null", "w");
  try {
    return await main(args, { out, err: out });
  } finally {
    closeSync(out);
  }
}

/**
 * Milliseconds per in-process CLI run of each `[args, expected exit code]`, runs taken
 * in turn, the best of `runs` each (after two warm-up rounds).
 */
async function cliMs(cases: [string[], number][], runs = 15): Promise<number[]> {
  const best = cases.map(() => Number.POSITIVE_INFINITY);
  for (let i = 0; i < runs + 2; i++) {
    for (const [k, [args, code]] of cases.entries()) {
      const t = performance.now();
      const got = await cli(args);
      const ms = performance.now() - t;
      if (got !== code) throw new Error(`tsbpf ${args.join(" ")}: exit ${got}, expected ${code}`);
      if (i >= 2) best[k] = Math.min(best[k] as number, ms);
    }
  }
  return best;
}

/** Runs the hostile-input benchmarks. */
export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const kitchen = new Uint8Array(readFileSync(KITCHEN_OBJ));
  const load = (bytes: Uint8Array) => () => void loadCollectionSpec(bytes);

  // ELF loading. The hostile .BTF headers are refused while the header is read, before
  // the work a benign object gets, so they cost less than it: "<= 1.5" leaves room for
  // noise; the 15.6 s crawl was a ratio in the thousands. The .bss size is checked when
  // the data sections are read, after most of a load's work; it was never slow (the
  // test guards against the "Invalid typed array length" of a 2 GiB allocation it once
  // ended in): "<= 3", for noise on a sub-millisecond load.
  results.push(
    row(
      "loadCollectionSpec: .BTF str_len 0x3fffffff vs kitchen.bpf.o",
      refused(load(strLenObject()), ELFError),
      load(kitchen),
      "<= 1.5",
    ),
    worst(
      "loadCollectionSpec: .BTF hdr_len/type_off/type_len past the data (worst) vs kitchen.bpf.o",
      HEADER_PAST_DATA.map(([at, v]) => [
        refused(load(objectWithBTFHeader(at, v)), ELFError),
        load(kitchen),
      ]),
      "<= 1.5",
    ),
    row(
      "loadCollectionSpec: a .bss of 0x7fffffff bytes vs xdp-maps.bpf.o",
      refused(load(objectWithBss(0x7fffffffn)), ELFError),
      load(new Uint8Array(readFileSync(BSS_OBJ))),
      "<= 3",
    ),
  );

  // BTF parsing: the hostile record and its twin, each followed by 10,000 plain int
  // records (alone, a blob of three records parses in microseconds and the ratio is the
  // cost of an Error's stack). The checks that refuse them are a walk of a few records
  // during a parse that reads them all: "<= 2" (a modifier loop walked without end never
  // finished; a member past its struct was accepted, and the C dump then wrote gigabytes).
  results.push(
    row(
      "parseBTF: a member at bit 0x7fff0000 vs the same struct with it at bit 32",
      refused(() => parseBTF(structBTF(0x7fff0000, 10_000)), BTFError),
      () => void parseBTF(structBTF(32, 10_000)),
      "<= 2",
    ),
    row(
      "parseBTF: a loop of modifiers vs a chain of them ending at int",
      refused(() => parseBTF(modifierLoopBTF(10_000)), BTFError),
      () => void parseBTF(modifierChainBTF(10_000)),
      "<= 2",
    ),
  );

  // C dump of a loop of pointers: it walks to MAX_DUMP_DEPTH (1000) levels and stops
  // with a BTFError (before the fix: a RangeError, the stack blown). Its twin is a chain
  // of 990 pointers, which the dump walks as deep and writes out: "<= 3" (the ratio
  // against `typedef int **t` would be the depth, about 140, and say nothing).
  const loop = parseBTF(pointerLoopBTF());
  const chain = parseBTF(pointerChainBTF(990));
  results.push(
    row(
      "dumpC: a loop of pointers (stops at depth 1000) vs a chain of 990 pointers",
      refused(() => dumpC(loop), BTFError),
      () => void dumpC(chain),
      "<= 3",
    ),
  );

  // The C dump of a 4 GiB struct streams: throughput per MB of text against an ordinary
  // dump (the running kernel's BTF when there is one, else kitchen.bpf.o's). The old
  // dump built the whole 4 GiB text first (3.6 GB of heap before the first byte);
  // padding is now written in batches, so a MB of it should cost no more than a MB of
  // ordinary declarations: "<= 2".
  const vmlinux = "/sys/kernel/btf/vmlinux";
  let ordinary: ReturnType<typeof parseBTF>;
  let ordinaryName: string;
  try {
    ordinary = parseBTF(new Uint8Array(readFileSync(vmlinux)));
    ordinaryName = "vmlinux";
  } catch {
    ordinary = loadCollectionSpec(kitchen).btf as ReturnType<typeof parseBTF>;
    ordinaryName = "kitchen.bpf.o";
  }
  const big = parseBTF(hugeStructBTF());
  dumpMsPerMB(big, 5e6);
  const hugeMs = dumpMsPerMB(big, 50e6);
  const ordinaryMs = dumpMsPerMB(ordinary, Number.POSITIVE_INFINITY);
  results.push({
    name: `dumpCTo: a 4 GiB struct, first 50 MB vs the whole ${ordinaryName} dump`,
    value: hugeMs,
    baseline: ordinaryMs,
    ratio: hugeMs / ordinaryMs,
    goal: "<= 2",
    unit: "ms/MB",
  });

  // `tsbpf btf dump file OBJ format c` in-process: a member past its struct is refused
  // while the BTF is read; the benign dump also formats and writes the text. Both are
  // about a millisecond, mostly the CLI's own work: "<= 2" (before parseBTF checked
  // members against their struct, the dump wrote the padding up to bit 0x7fff0000).
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-hostile-"));
  try {
    const mutated = join(dir, "mutated.o");
    writeFileSync(mutated, memberPastStructObject());
    const dump = (file: string) => ["btf", "dump", "file", file, "format", "c"];
    const [hostile = 0, benign = 1] = await cliMs([
      [dump(mutated), 255],
      [dump(KITCHEN_OBJ), 0],
    ]);
    results.push({
      name: "tsbpf btf dump file OBJ format c (in-process): member past its struct vs kitchen.bpf.o",
      value: hostile,
      baseline: benign,
      ratio: hostile / benign,
      goal: "<= 2",
      unit: "ms",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // The assembler. A 400,007-character line is refused by its length before parsing:
  // against an ordinary text of as many characters, "<= 0.5" (it is a fraction of it; the
  // old quadratic parse of that line did not end). The longest line allowed (4095
  // characters, refused by the parser at its first "<") against an ordinary text of as
  // many characters: "<= 2" (the objdump-annotation pattern that was quadratic now meets
  // at most MAX_ASM_LINE characters; it measured 0.13).
  const hostileText = longAsmLine(200_000);
  const longest = longAsmLine((MAX_ASM_LINE - 8) / 2);
  results.push(
    row(
      "assemble: a 400 KB line vs 400 KB of ordinary lines",
      refused(() => assemble(hostileText), AssemblerError),
      () => void assemble(ordinaryAsm(hostileText.length)),
      "<= 0.5",
    ),
    row(
      "assemble: the longest line allowed (4 KB) vs 4 KB of ordinary lines",
      refused(() => assemble(longest), AssemblerError),
      () => void assemble(ordinaryAsm(longest.length)),
      "<= 2",
    ),
  );

  // BTF strings: 200,000 lookups into one 1 MB string against 200,000 into a 1 MB table
  // of 3-character strings. With the NUL index each long lookup is a binary search and a
  // slice; the old scan read up to 1 MB each (200 GB in all): "<= 5".
  const lookups = (bytes: Uint8Array) => () => {
    const strings = new StringTable(bytes);
    let total = 0;
    for (let i = 1; i < 200_000; i++) total += strings.get(i).length;
    if (total === 0) throw new Error("unreachable");
  };
  results.push(
    row(
      "StringTable: 200,000 lookups into one 1 MB string vs into 1 MB of short strings",
      lookups(oneLongString(1 << 20)),
      lookups(shortStrings(1 << 20)),
      "<= 5",
    ),
  );

  // printf widths, each against an ordinary width that gives text as long. trace_printk
  // cuts its line at 511 characters, so `a%999999999db` should cost what `a%509dbbbbbbbb`
  // (as long a format, and a line of 511 characters too) does: "<= 2" (against `%5d` the
  // ratio, 6 to 11, measured the lengths of the line and of a 1000-digit width, not the
  // width's cost; the uncapped width threw a RangeError after building hundreds of MB). bpf_snprintf: a huge width fills the 1 MiB text, as does
  // a width of exactly 1 MiB: "<= 2".
  const noMachine = {} as Machine;
  results.push(
    worst(
      "formatPrintk: huge widths (worst of 3) vs %509d, formats as long, lines of 511",
      HUGE_WIDTHS.map((w) => [
        () => void formatPrintk(noMachine, `a%${w}db`, [42n]),
        // As long a format and as long a line: "a%509d" and the rest in b's.
        () =>
          void formatPrintk(noMachine, `a%${PRINTK_LINE_MAX - 2}d${"b".repeat(w.length - 2)}`, [
            42n,
          ]),
      ]),
      "<= 2",
    ),
  );
  const bprintf = (width: string) => {
    const fmt = new TextEncoder().encode(`%${width}d%${width}d\0`);
    const specs = parseBprintf(fmt, 2);
    if (!Array.isArray(specs)) throw new Error(`bad format %${width}d`);
    return () => void formatBprintf(fmt, specs, [1n, 2n], () => undefined);
  };
  results.push(
    worst(
      "formatBprintf: huge widths (worst of 3) vs a width of 1 MiB",
      HUGE_WIDTHS.map((w) => [bprintf(w), bprintf(String(BPRINTF_TEXT_MAX))]),
      "<= 2",
    ),
  );
  return results;
}
