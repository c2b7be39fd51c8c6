/**
 * Generates src/elf/section-defs.generated.ts — libbpf's SEC() table — from the
 * `section_defs[]` array in libbpf's src/libbpf.c.
 *
 * Usage: node --import tsx scripts/gen-section-defs.ts LIBBPF_C [--uapi BPF_H]
 *   [--origin TEXT] [--out PATH]
 *
 * LIBBPF_C is a copy of libbpf's src/libbpf.c (e.g. `git show <commit>:src/libbpf.c`
 * from a libbpf checkout); BPF_H is the same commit's include/uapi/linux/bpf.h, which
 * gives the numbers of attach types newer than this project's uapi; `--origin` says
 * where they came from and goes into the header.
 * Every entry is emitted. An entry whose attach type this project's uapi (generated
 * from the running kernel's BTF) does not know gets no `expectedAttachType` but a
 * `requires` note naming that attach type (and its number in BPF_H), so loaders can
 * refuse it with a clear error; an entry whose program type is unknown is left out
 * and listed in the header. The output is deterministic; Biome formats it after writing.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { AttachType, ProgType } from "../src/uapi/index.ts";

/** Where the generated file goes, relative to the repository root. */
export const OUTPUT_PATH = "src/elf/section-defs.generated.ts";

/** The SEC_* flag names of libbpf's `enum sec_def_flags` and the property each sets. */
const FLAG_PROPS: Record<string, string[]> = {
  SEC_NONE: [],
  SEC_EXP_ATTACH_OPT: ["attachTypeOptional"],
  SEC_ATTACHABLE: ["attachable"],
  SEC_ATTACHABLE_OPT: ["attachable", "attachTypeOptional"],
  SEC_ATTACH_BTF: ["attachBtf"],
  SEC_SLEEPABLE: ["sleepable"],
  SEC_XDP_FRAGS: ["xdpFrags"],
  SEC_USDT: ["usdt"],
  "0": [],
};

/** One parsed SEC_DEF line. */
export interface RawSecDef {
  readonly sec: string;
  readonly progType: string;
  readonly attachType: string | undefined;
  readonly flags: readonly string[];
  readonly attachFn: string | undefined;
}

/**
 * The values of `enum bpf_attach_type` in a uapi bpf.h, by name without `BPF_`
 * (implicit values count up from the previous one, as in C).
 */
export function parseAttachTypes(header: string): Map<string, number> {
  const start = header.indexOf("enum bpf_attach_type {");
  if (start < 0) throw new Error("enum bpf_attach_type not found in the given bpf.h");
  const end = header.indexOf("};", start);
  const body = header
    .slice(header.indexOf("{", start) + 1, end)
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "");
  const out = new Map<string, number>();
  let next = 0;
  for (const item of body.split(",")) {
    const m = /^\s*(\w+)\s*(?:=\s*(\w+))?\s*$/.exec(item);
    if (!m) continue;
    const value = m[2] === undefined ? next : Number(m[2]);
    out.set(m[1]!.replace(/^BPF_/, ""), value);
    next = value + 1;
  }
  return out;
}

/** Reads every `SEC_DEF(...)` entry of `section_defs[]`, in order. */
export function parseSectionDefs(source: string): RawSecDef[] {
  const start = source.indexOf("static const struct bpf_sec_def section_defs[] = {");
  if (start < 0) throw new Error("section_defs[] not found in the given libbpf.c");
  const end = source.indexOf("\n};", start);
  const body = source.slice(start, end);
  const out: RawSecDef[] = [];
  const re =
    /SEC_DEF\(\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*(\w+)\s*,\s*([\w\s|]+?)\s*(?:,\s*(\w+)\s*)?\)/g;
  for (const m of body.matchAll(re)) {
    const [, sec, progType, attach, flags, fn] = m as unknown as string[];
    out.push({
      sec: sec!,
      progType: progType!,
      attachType: attach === "0" ? undefined : attach!.replace(/^BPF_/, ""),
      flags: flags!.split("|").map((f) => f.trim()),
      attachFn: fn,
    });
  }
  if (out.length === 0) throw new Error("no SEC_DEF entries found");
  return out;
}

/**
 * The file's text for `defs`. Attach types unknown to src/uapi become `requires`
 * notes (with their number from `newerAttachTypes` when it has them); unknown program
 * types are left out and listed.
 */
export function render(
  defs: readonly RawSecDef[],
  origin: string,
  newerAttachTypes: ReadonlyMap<string, number> = new Map(),
): string {
  const lines: string[] = [];
  const skipped: string[] = [];
  const newer: string[] = [];
  for (const d of defs) {
    if (!(d.progType in ProgType)) {
      skipped.push(`${d.sec} (program type ${d.progType})`);
      continue;
    }
    const known = d.attachType === undefined || d.attachType in AttachType;
    const withTarget = d.sec.endsWith("+");
    const prefix = withTarget ? d.sec.slice(0, -1) : d.sec;
    const props: string[] = [
      `prefix: ${JSON.stringify(prefix)}`,
      `target: ${withTarget ? '"optional"' : '"none"'}`,
      `type: ProgType.${d.progType}`,
    ];
    if (d.attachType !== undefined && known) {
      props.push(`expectedAttachType: AttachType.${d.attachType}`);
    }
    const set = new Set<string>();
    for (const f of d.flags) {
      const p = FLAG_PROPS[f];
      if (!p) throw new Error(`unknown flag ${f} in SEC_DEF("${d.sec}")`);
      for (const x of p) set.add(x);
    }
    for (const x of [
      "attachable",
      "attachTypeOptional",
      "attachBtf",
      "sleepable",
      "xdpFrags",
      "usdt",
    ]) {
      if (set.has(x)) props.push(`${x}: true`);
    }
    if (d.attachFn) props.push(`attach: ${JSON.stringify(d.attachFn.replace(/^attach_/, ""))}`);
    if (!known) {
      const value = newerAttachTypes.get(d.attachType!);
      props.push(
        `requires: { attachType: ${JSON.stringify(`BPF_${d.attachType}`)}${value === undefined ? "" : `, value: ${value}`} }`,
      );
      newer.push(d.sec);
    }
    lines.push(`  { ${props.join(", ")} },`);
  }
  const head = [
    "// @generated by scripts/gen-section-defs.ts from libbpf's section_defs[] (src/libbpf.c);",
    "// do not edit. Regenerate: node --import tsx scripts/gen-section-defs.ts LIBBPF_C --uapi BPF_H --origin TEXT",
    `// Source: ${origin}.`,
    `// ${defs.length - skipped.length} forms.${
      newer.length === 0
        ? ""
        : ` Newer than this uapi (no expectedAttachType, a \`requires\` note): ${newer.join(", ")}.`
    }`,
    skipped.length === 0
      ? "// Every entry is present."
      : `// Left out (unknown program type): ${skipped.join(", ")}.`,
    "",
    'import { AttachType, ProgType } from "../uapi/index.ts";',
    'import type { SectionDef } from "./section-def.ts";',
    "",
    "/**",
    " * libbpf's SEC() table in its own order (the first matching entry wins). See",
    " * {@link SectionDef} for what each field means.",
    " */",
    "export const SECTION_DEFS: readonly SectionDef[] = [",
  ];
  return `${[...head, ...lines, "];"].join("\n")}\n`;
}

function main(argv: string[]): void {
  const args = [...argv];
  let origin = "libbpf src/libbpf.c";
  let out = OUTPUT_PATH;
  let uapi: string | undefined;
  const files: string[] = [];
  while (args.length > 0) {
    const a = args.shift()!;
    if (a === "--origin") origin = args.shift() ?? origin;
    else if (a === "--uapi") uapi = args.shift();
    else if (a === "--out") out = args.shift() ?? out;
    else files.push(a);
  }
  if (files.length !== 1) {
    console.error(
      "usage: gen-section-defs.ts LIBBPF_C [--uapi BPF_H] [--origin TEXT] [--out PATH]",
    );
    process.exit(2);
  }
  const newer = uapi === undefined ? new Map() : parseAttachTypes(readFileSync(uapi, "utf8"));
  const text = render(parseSectionDefs(readFileSync(files[0]!, "utf8")), origin, newer);
  writeFileSync(out, text);
  // One line per entry is easy to generate; Biome then lays it out like the rest.
  execFileSync("npx", ["biome", "format", "--write", out], { stdio: "inherit" });
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
