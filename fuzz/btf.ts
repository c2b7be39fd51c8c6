/**
 * BTF fuzzer: mutations of raw BTF — the `.BTF` sections of the repository's objects
 * and slices of the running kernel's `/sys/kernel/btf/vmlinux` (its first 100, 1,000
 * and 5,000 types with the strings they name) — in the header, type records (kind,
 * vlen, sizes, member offsets), string table and by bit flips and truncation, through
 * `parseBTF` (with and without the reference check), the raw dump and the C dump
 * (streamed; stopped after 64 MB of text, which a legitimately huge struct can reach).
 * A typed error is a BTFError; anything else is a failure.
 *
 * `npm run fuzz -- btf [--seconds N] [--seed S]`
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { BTFError, dumpCTo, dumpRaw, parseBTF } from "../src/btf/index.ts";
import { campaign, type FuzzOptions, type FuzzReport, writeRepro } from "./harness.ts";
import { mutate, objectCorpus, sectionHeaders } from "./mutate.ts";
import { Rng } from "./rng.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const DUMP_CAP = 64 << 20;

/** The first `n` types of a raw LE BTF blob, with only the strings up to the last one named. */
function slice(blob: Uint8Array, n: number): Uint8Array {
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const hdr = v.getUint32(4, true);
  const typeStart = hdr + v.getUint32(8, true);
  const typeEnd = typeStart + v.getUint32(12, true);
  const strStart = hdr + v.getUint32(16, true);
  const perVlen = [0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3];
  const fixed = [0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0];
  let p = typeStart;
  let maxName = 0;
  for (let i = 0; i < n && p + 12 <= typeEnd; i++) {
    const info = v.getUint32(p + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    maxName = Math.max(maxName, v.getUint32(p, true));
    const body = p + 12 + 4 * (fixed[kind] ?? 0);
    if (kind === 4 || kind === 5 || kind === 6 || kind === 13 || kind === 19) {
      const step = 4 * (perVlen[kind] ?? 0);
      for (let j = 0; j < vlen; j++)
        maxName = Math.max(maxName, v.getUint32(body + j * step, true));
    }
    p += 12 + 4 * ((fixed[kind] ?? 0) + (perVlen[kind] ?? 0) * vlen);
  }
  let strEnd = strStart + maxName;
  while (strEnd < blob.length && blob[strEnd] !== 0) strEnd++;
  const types = blob.subarray(typeStart, p);
  const strings = blob.subarray(strStart, strEnd + 1);
  const out = new Uint8Array(24 + types.length + strings.length);
  out.set(blob.subarray(0, 24));
  const o = new DataView(out.buffer);
  o.setUint32(4, 24, true);
  o.setUint32(8, 0, true);
  o.setUint32(12, types.length, true);
  o.setUint32(16, types.length, true);
  o.setUint32(20, strings.length, true);
  out.set(types, 24);
  out.set(strings, 24 + types.length);
  return out;
}

const corpus: Uint8Array[] = [];
const slices: Uint8Array[] = [];
for (const o of objectCorpus()) {
  const s = sectionHeaders(o.bytes).find((h) => h.name === ".BTF");
  if (s) corpus.push(o.bytes.slice(s.offset, s.offset + s.size));
}
if (existsSync(VMLINUX)) {
  const vmlinux = new Uint8Array(readFileSync(VMLINUX));
  for (const n of [100, 1000, 5000]) slices.push(slice(vmlinux, n));
}

/** Input `index` of campaign `seed`: a mutated BTF blob. */
export function makeInput(seed: number, index: number): Uint8Array {
  const rng = new Rng(seed, index);
  // Objects' BTF most of the time (fast), a vmlinux slice one time in five.
  const pool = slices.length > 0 && rng.chance(0.2) ? slices : corpus;
  const base = pool[rng.below(pool.length)]!;
  return mutate(rng, base, { offset: 0, size: base.length }, false);
}

const stop = new Error("dump cap reached");

export function runInput(seed: number, index: number): void {
  const bytes = makeInput(seed, index);
  // Without the reference check first: the dumpers must cope with dangling ids.
  let loose: ReturnType<typeof parseBTF> | undefined;
  try {
    loose = parseBTF(bytes, { checkReferences: false });
  } catch (e) {
    if (!(e instanceof BTFError)) throw e;
  }
  if (loose) {
    try {
      dumpRaw(loose);
    } catch (e) {
      if (!(e instanceof BTFError)) throw e;
    }
  }
  const btf = parseBTF(bytes);
  dumpRaw(btf);
  let n = 0;
  try {
    dumpCTo(btf, (chunk) => {
      n += chunk.length;
      if (n > DUMP_CAP) throw stop;
    });
  } catch (e) {
    if (e !== stop) throw e;
  }
}

export function isTyped(e: unknown): boolean {
  return e instanceof BTFError;
}

/** Runs the BTF campaign. */
export function fuzz(opts: FuzzOptions = {}): Promise<FuzzReport> {
  return campaign(
    {
      name: "btf",
      module: import.meta.url,
      reproduce: (seed, index) => {
        const file = writeRepro(`btf-${seed}-${index}.btf`, makeInput(seed, index));
        return { file, command: `npm run tsbpf -- btf dump file ${file} format c` };
      },
    },
    opts,
  );
}
