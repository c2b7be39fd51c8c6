/**
 * `npm run fuzz -- TARGET [--seconds N] [--seed S] [--inputs N]`: runs one fuzzer
 * (fuzz/TARGET.ts, which exports `fuzz({ seconds, seed })`) and exits non-zero when it
 * found a failure (an untyped error, a hang or a crash). Targets: elf, btf, cli (and
 * vm, from the VM's fuzzer).
 *
 * A long campaign: `npm run fuzz -- elf --seconds 3600`; each failure prints its seed,
 * input number, a file with the input and a command that reproduces it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const argv = process.argv.slice(2);
const target = argv[0];
const opt = (name: string): number | undefined => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v)) {
    console.error(`--${name} needs a number`);
    process.exit(2);
  }
  return v;
};
const file = target && join(import.meta.dirname, `${target}.ts`);
if (!target || !/^[a-z]+$/.test(target) || !file || !existsSync(file)) {
  console.error("usage: npm run fuzz -- elf|btf|cli|vm [--seconds N] [--seed S] [--inputs N]");
  process.exit(2);
}
const mod = (await import(pathToFileURL(file).href)) as {
  fuzz(opts: { seconds?: number; seed?: number; maxInputs?: number }): Promise<{
    untyped: number;
    hangs: number;
    crashes?: number;
  }>;
};
const seconds = opt("seconds");
const seed = opt("seed");
const inputs = opt("inputs");
const r = await mod.fuzz({
  ...(seconds !== undefined && { seconds }),
  ...(seed !== undefined && { seed }),
  ...(inputs !== undefined && { maxInputs: inputs }),
});
process.exitCode = r.untyped + r.hangs + (r.crashes ?? 0) > 0 ? 1 : 0;
