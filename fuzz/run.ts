/**
 * `npm run fuzz -- TARGET [--seconds N] [--seed S] ...`: runs one fuzzer and exits
 * non-zero when it found a failure (an untyped error, a hang, a crash, or for the VM a
 * cross-object access). Targets:
 * - `vm` (fuzz/vm.ts: random and mutated programs; its own options, `--only I` replays);
 * - `jit` (fuzz/jit.ts: the JIT against the interpreter on seeded random programs;
 *   `--from S --count N`, resumable by seed);
 * - `jit-digest` (fuzz/jit-digest.ts: a digest of the wasm modules the JIT compiles for
 *   the campaign's seeds, to tell whether a campaign run on one commit counts for another);
 * - `elf`, `btf`, `cli` (fuzz/TARGET.ts: mutated objects and arguments; `--inputs N`).
 *
 * A long campaign: the same command with `--seconds 3600` (or a count: `--programs N`
 * for the VM, `--inputs N` for the others) and `--jobs N`, one job per free core. Each
 * failure prints its seed and how to reproduce it.
 */

type Mutator = {
  fuzz(opts: { seconds?: number; seed?: number; maxInputs?: number; jobs?: number }): Promise<{
    untyped: number;
    hangs: number;
    crashes?: number;
  }>;
};

const argv = process.argv.slice(2);
const target = argv[0];
const rest = argv.slice(1);

function opt(name: string): number | undefined {
  const i = rest.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(rest[i + 1]);
  if (!Number.isFinite(v)) {
    console.error(`--${name} needs a number`);
    process.exit(2);
  }
  return v;
}

async function mutator(load: () => Promise<Mutator>): Promise<number> {
  const inputs = opt("inputs");
  // A count alone ends the campaign by count, not after the default 10 s.
  const seconds = opt("seconds") ?? (inputs !== undefined ? Number.POSITIVE_INFINITY : undefined);
  const seed = opt("seed");
  const jobs = opt("jobs");
  const r = await (await load()).fuzz({
    ...(seconds !== undefined && { seconds }),
    ...(seed !== undefined && { seed }),
    ...(inputs !== undefined && { maxInputs: inputs }),
    ...(jobs !== undefined && { jobs }),
  });
  return r.untyped + r.hangs + (r.crashes ?? 0) > 0 ? 1 : 0;
}

const targets: Record<string, () => Promise<number>> = {
  vm: async () => (await import("./vm.ts")).main(rest),
  jit: async () => (await import("./jit.ts")).main(rest),
  "jit-digest": async () => (await import("./jit-digest.ts")).main(rest),
  elf: () => mutator(() => import("./elf.ts")),
  btf: () => mutator(() => import("./btf.ts")),
  cli: () => mutator(() => import("./cli.ts")),
};

const run = target === undefined ? undefined : targets[target];
if (!run) {
  console.error(
    `usage: npm run fuzz -- { ${Object.keys(targets).join(" | ")} } [--seconds N] [--seed S]`,
  );
  process.exit(2);
}
process.exitCode = await run();
