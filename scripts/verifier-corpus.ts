/**
 * The kernel selftests' verifier programs as a corpus with the host kernel's verdicts
 * (issue 11, Tests): the oracle tsbpf's verifier is developed against.
 *
 *   node --import tsx scripts/verifier-corpus.ts [--only WORD] [--jobs N] [--out DIR]
 *
 * 1. `apt-get download linux-source-6.12` into .cache/linux-source/ (once; the sources
 *    are GPL-2.0 and never committed);
 * 2. extract tools/testing/selftests/bpf (progs/verifier_*.c, the headers they include),
 *    tools/lib/bpf's headers, tools/include and scripts/bpf_doc.py;
 * 3. generate bpf_helper_defs.h (bpf_doc.py, as libbpf's build does) and vmlinux.h from
 *    the running kernel with tsbpf's own `btf dump file /sys/kernel/btf/vmlinux format c`;
 * 4. compile each progs/verifier_*.c with clang-19 and the selftests' flags (cached by
 *    modification time);
 * 5. for each program, read its expectations from the object's BTF decl tags (as
 *    test_loader.c does: `comment:test_expect_failure`, `..._success`,
 *    `comment:test_expect_msg=N=...`, `..._unpriv` forms, `test_log_level=`,
 *    `test_prog_flags=`, `test_auxiliary`, `test_arch=`, `test_description=`), load it
 *    alone (with its object's maps and any __auxiliary programs) through tsbpf's
 *    Collection loader at the tagged log level (1 when none) with BPF_LOG_STATS, the
 *    flags test_loader adds (BPF_F_TEST_RND_HI32 | BPF_F_TEST_REG_INVARIANTS) and the
 *    tagged ones, and record the kernel's verdict, error line and instruction;
 * 6. write DIR/corpus.json (default .cache/verifier-corpus/) and each log under
 *    DIR/logs/, and print a summary.
 *
 * Unprivileged variants are recorded as expectations but not run: that needs
 * kernel.unprivileged_bpf_disabled = 0 and dropping capabilities (test_loader does both).
 *
 * Needs: root, apt-get (with deb-src-free Debian sources: the package is in main),
 * dpkg-deb, xz, tar, python3, clang-19. Says what is missing and exits 2.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename, join, resolve } from "node:path";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { Collection } from "../src/kernel/collection/collection.ts";
import type { KernelBTFSource } from "../src/kernel/collection/externs.ts";
import { kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { VerifierError } from "../src/kernel/programs/verifier-error.ts";
import {
  type KernelErrorLine,
  kernelErrorLine,
  type VerifierStats,
  verifierStats,
} from "../src/kernel/programs/verifier-log.ts";
import { openFdCount } from "../src/kernel/sys/index.ts";
import type { CollectionSpec } from "../src/spec/collection-spec.ts";
import { attachTypeName, progTypeName } from "../src/uapi/index.ts";
import { formatCase } from "../src/verifier/case.ts";
import { legacyCase, legacyTests, legacyUnsupported } from "./verifier-corpus-legacy.ts";
import {
  asLibbpfLoads,
  type Expectations,
  expectations,
  msgsMatch,
} from "./verifier-corpus-lib.ts";

const ROOT = resolve(import.meta.dirname, "..");
const PACKAGE = "linux-source-6.12";
const SELFTESTS = "tools/testing/selftests/bpf";

interface Args {
  only: string | undefined;
  jobs: number;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    only: undefined,
    jobs: Math.max(1, Math.min(2, cpus().length)),
    out: join(ROOT, ".cache/verifier-corpus"),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) die(`${a} needs a value`);
      return v as string;
    };
    if (a === "--only") args.only = next();
    else if (a === "--jobs") args.jobs = Math.max(1, Number(next()) || 1);
    else if (a === "--out") args.out = resolve(next());
    else if (a === "-h" || a === "--help") {
      console.log(
        "usage: node --import tsx scripts/verifier-corpus.ts [--only WORD] [--jobs N] [--out DIR]",
      );
      process.exit(0);
    } else die(`unknown argument ${a}`);
  }
  return args;
}

function die(msg: string, code = 2): never {
  console.error(`verifier-corpus: ${msg}`);
  process.exit(code);
}

function run(cmd: string, argv: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, argv, {
    cwd: opts.cwd,
    encoding: "utf8",
    maxBuffer: 1 << 30,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.error) die(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) die(`${cmd} ${argv.join(" ")} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

function checkTools(): void {
  const missing: string[] = [];
  for (const [tool, pkg, arg] of [
    ["apt-get", "apt", "--version"],
    ["dpkg-deb", "dpkg", "--version"],
    ["xz", "xz-utils", "--version"],
    ["tar", "tar", "--version"],
    ["python3", "python3", "--version"],
    ["clang-19", "clang-19", "--version"],
    ["gcc", "gcc", "--version"],
  ] as const) {
    const r = spawnSync(tool, [arg], { stdio: "ignore" });
    if (r.error || r.status !== 0) missing.push(`${tool} (Debian package ${pkg})`);
  }
  if (missing.length > 0) {
    die(`missing: ${missing.join(", ")}; install with apt-get (scripts/setup.sh has clang-19)`);
  }
  if (process.getuid?.() !== 0) die("loading programs needs root");
  if (!existsSync("/sys/kernel/btf/vmlinux"))
    die("the kernel has no BTF (/sys/kernel/btf/vmlinux)");
}

/** The .deb of the kernel sources, downloaded once. */
function sourcePackage(): string {
  const dir = join(ROOT, ".cache/linux-source");
  mkdirSync(dir, { recursive: true });
  const find = () =>
    readdirSync(dir).find((f) => f.startsWith(`${PACKAGE}_`) && f.endsWith(".deb"));
  let deb = find();
  if (!deb) {
    console.log(`downloading ${PACKAGE} (about 150 MB) into ${dir}`);
    run("apt-get", ["download", PACKAGE], { cwd: dir });
    deb = find();
    if (!deb) die(`apt-get download ${PACKAGE} left no .deb in ${dir}`);
  }
  return join(dir, deb);
}

/** The extracted tree (only what the corpus needs), once per package version. */
function extract(deb: string, out: string): string {
  const src = join(out, "src");
  const marker = join(src, `.extracted-2-${basename(deb)}`);
  if (existsSync(marker)) return join(src, `${PACKAGE}`);
  mkdirSync(src, { recursive: true });
  console.log(`extracting the selftests from ${basename(deb)}`);
  const script = [
    `dpkg-deb --fsys-tarfile '${deb}'`,
    `tar -xO ./usr/src/${PACKAGE}.tar.xz`,
    "xz -dc -T2",
    `tar -x -C '${src}' --wildcards '${PACKAGE}/${SELFTESTS}/progs/*' '${PACKAGE}/${SELFTESTS}/*.h' '${PACKAGE}/${SELFTESTS}/test_loader.c' '${PACKAGE}/${SELFTESTS}/verifier/*' '${PACKAGE}/tools/lib/bpf/*' '${PACKAGE}/tools/include/*' '${PACKAGE}/scripts/bpf_doc.py'`,
  ].join(" | ");
  run("bash", ["-c", `set -o pipefail; ${script}`]);
  writeFileSync(marker, "");
  return join(src, PACKAGE);
}

/** bpf/*.h (libbpf's), bpf_helper_defs.h and vmlinux.h, as the selftests' include dir. */
function includeDir(tree: string, out: string): string {
  const inc = join(out, "include");
  const bpfDir = join(inc, "bpf");
  mkdirSync(bpfDir, { recursive: true });
  for (const h of readdirSync(join(tree, "tools/lib/bpf"))) {
    if (h.endsWith(".h")) {
      writeFileSync(join(bpfDir, h), readFileSync(join(tree, "tools/lib/bpf", h)));
    }
  }
  const defs = join(bpfDir, "bpf_helper_defs.h");
  if (!existsSync(defs)) {
    const text = run("python3", [
      join(tree, "scripts/bpf_doc.py"),
      "--header",
      "--file",
      join(tree, "tools/include/uapi/linux/bpf.h"),
    ]);
    writeFileSync(defs, text);
  }
  const vmlinux = join(inc, "vmlinux.h");
  const release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  const stamp = join(inc, `.vmlinux-${release}`);
  if (!existsSync(vmlinux) || !existsSync(stamp)) {
    console.log(`vmlinux.h of ${release} with tsbpf btf dump ... format c`);
    const text = run(process.execPath, [
      "--import",
      "tsx",
      join(ROOT, "src/cli/main.ts"),
      "btf",
      "dump",
      "file",
      "/sys/kernel/btf/vmlinux",
      "format",
      "c",
    ]);
    writeFileSync(vmlinux, text);
    writeFileSync(stamp, "");
  }
  return inc;
}

/** clang's own include directories, as the selftests' get_sys_includes finds them. */
function sysIncludes(): string[] {
  const r = spawnSync("clang-19", ["-v", "-E", "-"], { input: "", encoding: "utf8" });
  const text = r.stderr ?? "";
  const start = text.indexOf("#include <...> search starts here:");
  const end = text.indexOf("End of search list.");
  if (start < 0 || end < 0) return ["-idirafter", "/usr/include/x86_64-linux-gnu"];
  return text
    .slice(start, end)
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l.startsWith("/"))
    .flatMap((d) => ["-idirafter", d]);
}

interface Compiled {
  readonly file: string;
  readonly object?: string;
  readonly error?: string;
}

async function compileAll(
  tree: string,
  inc: string,
  out: string,
  files: string[],
  jobs: number,
): Promise<Compiled[]> {
  const objDir = join(out, "obj");
  mkdirSync(objDir, { recursive: true });
  const dir = join(tree, SELFTESTS);
  const flags = [
    "-g",
    "-Wall",
    "-Wno-compare-distinct-pointer-types",
    "-D__TARGET_ARCH_x86",
    "-mlittle-endian",
    `-I${inc}`,
    `-I${dir}`,
    `-I${join(tree, "tools/include/uapi")}`,
    ...sysIncludes(),
    "-DENABLE_ATOMICS_TESTS",
    "-O2",
    "--target=bpf",
    "-mcpu=v3",
  ];
  const results: Compiled[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= files.length) return;
      const file = files[i] as string;
      const src = join(dir, "progs", file);
      const obj = join(objDir, file.replace(/\.c$/, ".bpf.o"));
      if (existsSync(obj) && statSync(obj).mtimeMs >= statSync(src).mtimeMs) {
        results[i] = { file, object: obj };
        continue;
      }
      results[i] = await new Promise<Compiled>((done) => {
        const p = spawn("clang-19", [...flags, "-c", src, "-o", obj], {
          stdio: ["ignore", "ignore", "pipe"],
        });
        let err = "";
        p.stderr.on("data", (d) => {
          if (err.length < 4000) err += String(d);
        });
        p.on("close", (code) =>
          done(
            code === 0
              ? { file, object: obj }
              : { file, error: err.split("\n").find((l) => l.includes("error")) ?? err.trim() },
          ),
        );
      });
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return results;
}

/** One program of the corpus. */
interface Entry {
  readonly file: string;
  readonly object: string;
  readonly program: string;
  readonly section: string | undefined;
  readonly progType: string;
  readonly expectedAttachType?: string;
  readonly expect: Expectations;
  /** Why it was not loaded (an arch it is not for, an unprivileged-only test). */
  readonly skipped?: string;
  readonly kernel?: {
    readonly accepted: boolean;
    readonly errno?: number;
    readonly errorLine?: string;
    readonly errorLines?: readonly string[];
    readonly insn?: number;
    readonly stats?: VerifierStats;
    readonly logLevel: number;
    readonly flags: number;
    readonly log: string;
  };
  /** tsbpf could not load it for a reason that is not the verifier's. */
  readonly loadError?: string;
  /** The kernel's verdict is the one the file expects (privileged). */
  readonly verdictMatches?: boolean;
  /** How many of the privileged __msg patterns matched, in order. */
  readonly msgsMatched?: number;
}

function judge(
  spec: CollectionSpec,
  name: string,
  exp: Expectations,
  auxiliaries: readonly string[],
  kernelBTF: KernelBTFSource | undefined,
): Pick<Entry, "kernel" | "loadError"> {
  const prog = spec.programs[name];
  if (!prog) return { loadError: `no program ${name}` };
  const logLevel = (exp.logLevel || 1) | 4;
  // test_loader ors the tagged flags into what libbpf set from SEC() (sleepable...)
  const programs = {
    ...spec.programs,
    [name]: { ...prog, flags: ((prog.flags ?? 0) | exp.flags) >>> 0 },
  };
  const one: CollectionSpec = { ...spec, programs };
  let log = "";
  let accepted = false;
  let errno: number | undefined;
  try {
    const coll = Collection.load(one, {
      programs: [name, ...auxiliaries],
      logLevel,
      ...(kernelBTF ? { kernelBTF } : {}),
    });
    try {
      accepted = true;
      log = coll.program(name).verifierLog ?? "";
    } finally {
      coll.close();
    }
  } catch (e) {
    if (e instanceof VerifierError && e.program.includes(`"${name}"`)) {
      log = e.log;
      errno = e.errno;
    } else {
      return { loadError: (e as Error).message.split("\n")[0] ?? String(e) };
    }
  }
  const line: KernelErrorLine | undefined = accepted ? undefined : kernelErrorLine(log);
  const stats = verifierStats(log);
  return {
    kernel: {
      accepted,
      ...(errno !== undefined ? { errno } : {}),
      ...(line?.message !== undefined ? { errorLine: line.message, errorLines: line.lines } : {}),
      ...(line?.insn !== undefined ? { insn: line.insn } : {}),
      ...(stats ? { stats } : {}),
      logLevel,
      flags: exp.flags,
      log,
    },
  };
}

const customBtfs = new Map<string, KernelBTFSource | undefined>();

/**
 * `__btf_path("btf__x.bpf.o")`: CO-RE against that object's BTF instead of the kernel's
 * (test_loader's btf_custom_path); the object is built from progs/btf__x.c.
 */
async function customBtf(
  tree: string,
  inc: string,
  out: string,
  path: string,
): Promise<KernelBTFSource | undefined> {
  if (customBtfs.has(path)) return customBtfs.get(path);
  let source: KernelBTFSource | undefined;
  const file = basename(path).replace(/\.bpf\.o$/, ".c");
  if (existsSync(join(tree, SELFTESTS, "progs", file))) {
    const [c] = await compileAll(tree, inc, out, [file], 1);
    const btf = c?.object
      ? loadCollectionSpec(new Uint8Array(readFileSync(c.object))).btf
      : undefined;
    if (btf) {
      source = {
        vmlinux: () => btf,
        moduleNames: () => [],
        module: (m: string) => {
          throw new Error(`no module ${m} beside ${path}`);
        },
      };
    }
  }
  customBtfs.set(path, source);
  return source;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  checkTools();
  const started = performance.now();
  const fds0 = openFdCount();
  const deb = sourcePackage();
  const tree = extract(deb, args.out);
  const inc = includeDir(tree, args.out);
  const progsDir = join(tree, SELFTESTS, "progs");
  const files = readdirSync(progsDir)
    .filter((f) => /^verifier_.*\.c$/.test(f))
    .filter((f) => args.only === undefined || f.includes(args.only))
    .sort();
  console.log(`compiling ${files.length} files with clang-19 (${args.jobs} jobs)`);
  const compiled = await compileAll(tree, inc, args.out, files, args.jobs);
  const logDir = join(args.out, "logs");
  mkdirSync(logDir, { recursive: true });
  const entries: Entry[] = [];
  const compileErrors: { file: string; error: string }[] = [];
  const objectErrors: { file: string; error: string }[] = [];
  for (const c of compiled) {
    if (!c.object) {
      compileErrors.push({ file: c.file, error: c.error ?? "" });
      continue;
    }
    let spec: CollectionSpec;
    try {
      spec = asLibbpfLoads(loadCollectionSpec(new Uint8Array(readFileSync(c.object))));
    } catch (e) {
      objectErrors.push({ file: c.file, error: (e as Error).message.split("\n")[0] ?? "" });
      continue;
    }
    const btf = spec.btf;
    if (!btf) {
      objectErrors.push({ file: c.file, error: "no BTF" });
      continue;
    }
    const exps = new Map<string, Expectations>();
    for (const name of Object.keys(spec.programs)) {
      const e = expectations(btf, name);
      if (e) exps.set(name, e);
    }
    const auxiliaries = [...exps].filter(([, e]) => e.auxiliary && e.modes.includes("priv"));
    for (const [name, exp] of exps) {
      if (exp.auxiliary) continue;
      const prog = spec.programs[name];
      const base = {
        file: c.file,
        object: c.object,
        program: name,
        section: prog?.section,
        progType: progTypeName(prog?.type ?? 0) ?? String(prog?.type),
        ...(prog?.expectedAttachType !== undefined
          ? {
              expectedAttachType:
                attachTypeName(prog.expectedAttachType) ?? String(prog.expectedAttachType),
            }
          : {}),
        expect: exp,
      };
      let skipped: string | undefined;
      if (exp.arch.length > 0 && !exp.arch.includes("X86_64")) {
        skipped = `for ${exp.arch.join(", ")} only`;
      } else if (!exp.modes.includes("priv")) {
        skipped = "an unprivileged test only (not run here)";
      }
      if (skipped) {
        entries.push({ ...base, skipped });
        continue;
      }
      let kernelBTF: KernelBTFSource | undefined;
      if (exp.btfPath !== undefined) {
        kernelBTF = await customBtf(tree, inc, args.out, exp.btfPath);
        if (!kernelBTF) {
          entries.push({ ...base, skipped: `__btf_path(${exp.btfPath}) did not build` });
          continue;
        }
      }
      const result = judge(
        spec,
        name,
        exp,
        auxiliaries.map(([n]) => n),
        kernelBTF,
      );
      let extra: Pick<Entry, "verdictMatches" | "msgsMatched"> = {};
      if (result.kernel) {
        const k = result.kernel;
        const logFile = join(logDir, c.file.replace(/\.c$/, ""), `${name}.log`);
        mkdirSync(join(logDir, c.file.replace(/\.c$/, "")), { recursive: true });
        writeFileSync(logFile, k.log);
        extra = {
          verdictMatches: k.accepted === !exp.priv.failure,
          msgsMatched: msgsMatch(k.log, exp.priv.msgs),
        };
      }
      entries.push({ ...base, ...result, ...extra });
    }
    process.stdout.write(".");
  }
  process.stdout.write("\n");
  const legacy = args.only === undefined ? runLegacy(tree, args.out) : undefined;
  // the corpus without the logs (they are in logs/FILE/PROG.log)
  const slim = entries.map((e) =>
    e.kernel ? { ...e, kernel: { ...e.kernel, log: undefined } } : e,
  );
  writeFileSync(
    join(args.out, "corpus.json"),
    `${JSON.stringify(
      {
        kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(),
        package: basename(deb),
        generated: new Date().toISOString(),
        compileErrors,
        objectErrors,
        programs: slim,
        ...(legacy ? { legacy: typeof legacy === "string" ? { error: legacy } : legacy } : {}),
      },
      null,
      1,
    )}\n`,
  );
  summary(args, files.length, compiled, compileErrors, objectErrors, entries, started);
  if (openFdCount() !== fds0) {
    console.error(`verifier-corpus: ${openFdCount() - fds0} descriptors left open`);
    process.exitCode = 1;
  }
  if (typeof legacy === "string") console.log(`legacy verifier/*.c: not run: ${legacy}`);
  else if (legacy) legacySummary(legacy, args.out);
}

/** One legacy test (verifier/*.c) in the corpus. */
interface LegacyEntry {
  readonly index: number;
  readonly file: string;
  readonly descr: string;
  /** ACCEPT, REJECT or VERBOSE_ACCEPT. */
  readonly result: string;
  readonly errstr: readonly string[];
  readonly skipped?: string;
  /** The case file (CASE.json) under DIR/legacy/cases/. */
  readonly case?: string;
  readonly kernel?: {
    readonly accepted: boolean;
    readonly errno?: number;
    readonly errorLine?: string;
    readonly errorLines?: readonly string[];
    readonly insn?: number;
  };
  readonly loadError?: string;
  readonly verdictMatches?: boolean;
  readonly errstrMatched?: number;
}

const RESULTS = ["UNDEF", "ACCEPT", "REJECT", "VERBOSE_ACCEPT"];

/** The legacy tests as cases, each judged by the kernel through kernelVerdict. */
function runLegacy(tree: string, out: string): LegacyEntry[] | string {
  const tests = legacyTests(tree, out);
  if (typeof tests === "string") return tests;
  const caseDir = join(out, "legacy/cases");
  mkdirSync(caseDir, { recursive: true });
  return tests.map((t): LegacyEntry => {
    const base = {
      index: t.index,
      file: t.file,
      descr: t.descr,
      result: RESULTS[t.result] ?? String(t.result),
      errstr: t.errstr ? t.errstr.split("\t").filter((x) => x) : [],
    };
    const why = legacyUnsupported(t);
    if (why) return { ...base, skipped: why };
    const c = legacyCase(t);
    const file = `${String(t.index).padStart(3, "0")}-${t.file.replace(/\.c$/, "")}.json`;
    writeFileSync(join(caseDir, file), formatCase({ ...c, name: `legacy_${t.index}` }));
    try {
      const v = kernelVerdict(c, { logLevel: 1 | 4 });
      return {
        ...base,
        case: file,
        kernel: {
          accepted: v.accepted,
          ...(v.errno !== undefined ? { errno: v.errno } : {}),
          ...(v.errorLine !== undefined
            ? { errorLine: v.errorLine, errorLines: v.errorLines }
            : {}),
          ...(v.insn !== undefined ? { insn: v.insn } : {}),
        },
        verdictMatches: v.accepted === (t.result !== 2),
        errstrMatched: msgsMatch(v.log, base.errstr),
      };
    } catch (e) {
      return { ...base, case: file, loadError: (e as Error).message.split("\n")[0] ?? String(e) };
    }
  });
}

function legacySummary(entries: readonly LegacyEntry[], out: string): void {
  const judged = entries.filter((e) => e.kernel);
  const accepted = judged.filter((e) => e.kernel?.accepted).length;
  const matches = judged.filter((e) => e.verdictMatches).length;
  const withErr = judged.filter((e) => !e.kernel?.accepted && e.errstr.length > 0);
  const errOk = withErr.filter((e) => e.errstrMatched === e.errstr.length).length;
  const pct = (a: number, b: number) => (b === 0 ? "-" : `${((100 * a) / b).toFixed(1)}%`);
  const skipped = new Map<string, number>();
  for (const e of entries) if (e.skipped) skipped.set(e.skipped, (skipped.get(e.skipped) ?? 0) + 1);
  const lines = [
    `legacy verifier/*.c: ${entries.length} tests, ${entries.length - [...skipped.values()].reduce((a, b) => a + b, 0)} as cases (${join(out, "legacy/cases")}), not judged ${entries.filter((e) => e.loadError).length}`,
    `  kernel: ${judged.length} judged, accepted ${accepted}, rejected ${judged.length - accepted}; result as the test expects ${matches}/${judged.length} (${pct(matches, judged.length)}); errstr met on rejected ${errOk}/${withErr.length} (${pct(errOk, withErr.length)})`,
    ...[...skipped].map(([w, n]) => `  not a case (${n}): ${w}`),
    ...entries
      .filter((e) => e.loadError)
      .slice(0, 5)
      .map((e) => `  not judged ${e.file} #${e.index}: ${e.loadError}`),
    ...judged
      .filter((e) => !e.verdictMatches)
      .slice(0, 8)
      .map(
        (e) =>
          `  verdict differs ${e.file} #${e.index} "${e.descr}": expected ${e.result}, kernel ${e.kernel?.accepted ? "accepted" : `rejected: ${e.kernel?.errorLine}`}`,
      ),
  ];
  console.log(lines.join("\n"));
}

function summary(
  args: Args,
  fileCount: number,
  compiled: readonly Compiled[],
  compileErrors: readonly { file: string; error: string }[],
  objectErrors: readonly { file: string; error: string }[],
  entries: readonly Entry[],
  started: number,
): void {
  const judged = entries.filter((e) => e.kernel);
  const accepted = judged.filter((e) => e.kernel?.accepted).length;
  const rejected = judged.length - accepted;
  const matches = judged.filter((e) => e.verdictMatches).length;
  const withMsgs = judged.filter((e) => e.expect.priv.msgs.length > 0);
  const msgsOk = withMsgs.filter((e) => e.msgsMatched === e.expect.priv.msgs.length).length;
  const rejectedWithMsgs = withMsgs.filter((e) => !e.kernel?.accepted);
  const rejectedMsgsOk = rejectedWithMsgs.filter(
    (e) => e.msgsMatched === e.expect.priv.msgs.length,
  ).length;
  const noLine = judged.filter((e) => !e.kernel?.accepted && !e.kernel?.errorLine).length;
  const pct = (a: number, b: number) => (b === 0 ? "-" : `${((100 * a) / b).toFixed(1)}%`);
  const lines = [
    `files: ${fileCount} verifier_*.c, compiled ${compiled.length - compileErrors.length}, compile errors ${compileErrors.length}, unreadable objects ${objectErrors.length}`,
    `programs: ${entries.length} tests (auxiliary programs not counted), skipped ${entries.filter((e) => e.skipped).length} (arch or unprivileged-only), tsbpf load errors ${entries.filter((e) => e.loadError).length}`,
    `kernel: ${judged.length} judged, accepted ${accepted}, rejected ${rejected} (${noLine} rejections without an error line)`,
    `expectation: verdict as the file expects ${matches}/${judged.length} (${pct(matches, judged.length)}); __msg met ${msgsOk}/${withMsgs.length} (${pct(msgsOk, withMsgs.length)}), on rejected programs ${rejectedMsgsOk}/${rejectedWithMsgs.length}`,
    `corpus: ${join(args.out, "corpus.json")} (logs in ${join(args.out, "logs")}), ${((performance.now() - started) / 1000).toFixed(1)} s`,
  ];
  for (const e of compileErrors.slice(0, 10)) lines.push(`  compile error ${e.file}: ${e.error}`);
  for (const e of objectErrors.slice(0, 10)) lines.push(`  object error ${e.file}: ${e.error}`);
  const loadErrors = entries.filter((e) => e.loadError);
  for (const e of loadErrors.slice(0, 10))
    lines.push(`  load error ${e.file} ${e.program}: ${e.loadError}`);
  if (loadErrors.length > 10) lines.push(`  ... ${loadErrors.length - 10} more load errors`);
  const mismatched = judged.filter((e) => !e.verdictMatches);
  for (const e of mismatched.slice(0, 10)) {
    lines.push(
      `  verdict differs ${e.file} ${e.program}: expected ${e.expect.priv.failure ? "failure" : "success"}, kernel ${e.kernel?.accepted ? "accepted" : `rejected: ${e.kernel?.errorLine}`}`,
    );
  }
  if (mismatched.length > 10) lines.push(`  ... ${mismatched.length - 10} more verdicts differ`);
  console.log(lines.join("\n"));
}

await main();
