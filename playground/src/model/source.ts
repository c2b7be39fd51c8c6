/**
 * The playground's program text: assembly (bpftool or LLVM syntax, as src/isa's
 * assembler reads it) plus `.map` lines that declare the maps `lddw` instructions refer
 * to by index, in order of declaration:
 *
 * ```
 * .map counts array key=4 value=8 entries=1
 * r1 = map[id:0]        ; maps[0], "counts"
 * ```
 *
 * The text becomes a {@link VerifierCase} (the same data `tsbpf vm verify CASE.json`
 * reads, so the page and the CLI judge one thing) and a line map from instruction slots
 * back to the editor's lines.
 *
 * Pure: no DOM, no `node:` imports.
 * @module
 */
import {
  AssemblerError,
  assemble,
  encodeProgram,
  type Instruction,
} from "../../../src/isa/index.ts";
import type { MapSpec } from "../../../src/spec/map-spec.ts";
import { MapType, mapTypeName, type ProgType } from "../../../src/uapi/index.ts";
import type { VerifierCase } from "../../../src/verifier/index.ts";

/** The most maps a text may declare (the case format's, and the kernel's MAX_USED_MAPS). */
export const MAX_SOURCE_MAPS = 64;

/** A problem in the text, with the line and column it is at (1-based). */
export class SourceError extends Error {
  override readonly name = "SourceError";
  constructor(
    /** 1-based line in the editor. */
    readonly line: number,
    /** 1-based column. */
    readonly col: number,
    /** What is wrong, without the position. */
    readonly reason: string,
  ) {
    super(`line ${line}, column ${col}: ${reason}`);
  }
}

/** The text, assembled. */
export interface AssembledSource {
  readonly insns: readonly Instruction[];
  /** The maps declared with `.map`, by index. */
  readonly maps: readonly MapSpec[];
  /** `lineOfSlot[pc]`: the 1-based editor line of the instruction at slot pc (lddw's second slot: undefined). */
  readonly lineOfSlot: readonly (number | undefined)[];
}

/** Map types by bpftool's name (`array`, `hash`, `ringbuf`...). */
function mapTypeByName(name: string): number | undefined {
  return Object.values(MapType).find((t) => mapTypeName(t) === name);
}

const MAP_FIELDS = { key: "keySize", value: "valueSize", entries: "maxEntries" } as const;

/** One `.map NAME TYPE key=K value=V entries=N` line. */
function parseMapLine(line: string, lineNo: number): MapSpec {
  const words = [...line.matchAll(/\S+/g)];
  const at = (i: number) => (words[i]?.index ?? line.length) + 1;
  const name = words[1]?.[0];
  if (name === undefined || !/^[A-Za-z_.][A-Za-z0-9_.]{0,63}$/.test(name))
    throw new SourceError(
      lineNo,
      at(1),
      ".map needs a name (letters, digits, '_' and '.', at most 64): .map NAME TYPE key=K value=V entries=N",
    );
  const typeWord = words[2]?.[0];
  const type = typeWord === undefined ? undefined : mapTypeByName(typeWord);
  if (type === undefined)
    throw new SourceError(
      lineNo,
      at(2),
      typeWord === undefined
        ? ".map needs a type after its name (array, hash, ringbuf, ...)"
        : `"${typeWord}" is not a map type (array, hash, percpu_array, lru_hash, ringbuf, ...)`,
    );
  const sizes: Record<string, number> = { keySize: 0, valueSize: 0, maxEntries: 0 };
  for (let i = 3; i < words.length; i++) {
    const m = /^(key|value|entries)=(\d{1,10})$/.exec(words[i]![0]);
    if (!m)
      throw new SourceError(
        lineNo,
        at(i),
        `expected key=N, value=N or entries=N, found "${words[i]![0]}"`,
      );
    const n = Number(m[2]);
    if (n > 0xffff_ffff) throw new SourceError(lineNo, at(i), `${m[2]} does not fit in 32 bits`);
    sizes[MAP_FIELDS[m[1] as keyof typeof MAP_FIELDS]] = n;
  }
  return {
    name,
    type: type as MapSpec["type"],
    keySize: sizes.keySize!,
    valueSize: sizes.valueSize!,
    maxEntries: sizes.maxEntries!,
  };
}

/**
 * Assembles the editor's text.
 * @throws SourceError naming the line and column of the first problem.
 */
export function assembleSource(text: string): AssembledSource {
  const maps: MapSpec[] = [];
  // `.map` lines become blank lines, so the assembler's line numbers stay the editor's.
  const asmText = text
    .split("\n")
    .map((line, i) => {
      if (!/^\s*\.map\b/.test(line)) return line;
      if (maps.length >= MAX_SOURCE_MAPS)
        throw new SourceError(i + 1, 1, `more than ${MAX_SOURCE_MAPS} maps`);
      maps.push(parseMapLine(line, i + 1));
      return "";
    })
    .join("\n");
  const lines: number[] = [];
  let insns: Instruction[];
  try {
    insns = assemble(asmText, { lines });
  } catch (e) {
    if (e instanceof AssemblerError) throw new SourceError(e.line, e.column, e.reason);
    throw e;
  }
  if (insns.length === 0) throw new SourceError(1, 1, "the program has no instructions");
  const lineOfSlot: (number | undefined)[] = [];
  insns.forEach((insn, i) => {
    lineOfSlot.push(lines[i]);
    if (insn.bytes === 16) lineOfSlot.push(undefined);
  });
  return { insns, maps, lineOfSlot };
}

/** The assembled text as a verifier case of type `progType` (GPL, no BTF function info). */
export function sourceCase(src: AssembledSource, progType: ProgType): VerifierCase {
  return {
    name: "playground",
    progType,
    progFlags: 0,
    license: "GPL",
    insns: encodeProgram(src.insns),
    maps: src.maps.map((spec) => ({ spec })),
    funcs: [],
  };
}

/** `.map` lines for maps (the inverse of what {@link assembleSource} reads). */
export function mapLines(maps: readonly MapSpec[]): string[] {
  return maps.map(
    (m) =>
      `.map ${m.name} ${mapTypeName(m.type) ?? m.type} key=${m.keySize} value=${m.valueSize} entries=${m.maxEntries}`,
  );
}
