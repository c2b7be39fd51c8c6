/**
 * ELF fuzzer: mutations of the repository's BPF objects (test/testdata, examples) —
 * bit flips, truncations, ELF header and section header offsets and sizes, and their
 * `.BTF` (header, type records, strings) — through `loadCollectionSpec`, the whole
 * object loader (ELF reader, BTF fixup and parser, .BTF.ext, maps, programs, linker).
 * A typed error is an ELFError, BTFError, MapSpecError, ProgramSpecError or
 * InvalidInstructionError; anything else is a failure.
 *
 * `npm run fuzz -- elf [--seconds N] [--seed S]`
 *
 * @module
 */

import { BTFError } from "../src/btf/index.ts";
import { ELFError, loadCollectionSpec } from "../src/elf/index.ts";
import { InvalidInstructionError } from "../src/isa/errors.ts";
import { MapSpecError } from "../src/spec/map-spec.ts";
import { ProgramSpecError } from "../src/spec/program-spec.ts";
import { campaign, type FuzzOptions, type FuzzReport, writeRepro } from "./harness.ts";
import { mutate, objectCorpus, sectionHeaders } from "./mutate.ts";
import { Rng } from "./rng.ts";

const corpus = objectCorpus().map((o) => {
  const btf = sectionHeaders(o.bytes).find((s) => s.name === ".BTF");
  return { ...o, btf: btf && { offset: btf.offset, size: btf.size } };
});

/** Input `index` of campaign `seed`: a mutated object. */
export function makeInput(seed: number, index: number): Uint8Array {
  const rng = new Rng(seed, index);
  const base = corpus[rng.below(corpus.length)]!;
  return mutate(rng, base.bytes, base.btf);
}

export function runInput(seed: number, index: number): void {
  loadCollectionSpec(makeInput(seed, index));
}

export function isTyped(e: unknown): boolean {
  return (
    e instanceof ELFError ||
    e instanceof BTFError ||
    e instanceof MapSpecError ||
    e instanceof ProgramSpecError ||
    e instanceof InvalidInstructionError
  );
}

/** Runs the ELF campaign. */
export function fuzz(opts: FuzzOptions = {}): Promise<FuzzReport> {
  return campaign(
    {
      name: "elf",
      module: import.meta.url,
      reproduce: (seed, index) => {
        const file = writeRepro(`elf-${seed}-${index}.o`, makeInput(seed, index));
        return { file, command: `npm run tsbpf -- vm load ${file}` };
      },
    },
    opts,
  );
}
