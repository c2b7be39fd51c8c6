/**
 * The object loader: ELF bytes from `clang -target bpf -c` to a {@link CollectionSpec}.
 * Nothing here depends on a kernel: the same bytes always give the same spec.
 *
 * @module
 */

import { type BTF, BTFError, type BTFExt, parseBTF, parseBTFExt } from "../btf/index.ts";
import type {
  CollectionSpec,
  MapSpec,
  ProgramBtf,
  ProgramSpec,
  VariableSpec,
} from "../spec/index.ts";
import { plainBytes } from "../uapi/bytes.ts";
import { ProgType } from "../uapi/index.ts";
import { attachDescriptor, unknownSectionDescriptor } from "./attach-descriptor.ts";
import { type ElfMap, readBtfMaps } from "./btf-maps.ts";
import { EM_BPF, SymbolBinding, SymbolType } from "./constants.ts";
import { ELFError } from "./errors.ts";
import { type Externs, KCONFIG_MAP, readExterns } from "./externs.ts";
import { fixupDatasecs } from "./fixup-btf.ts";
import { isGlobalDataSection, readGlobalData } from "./global-data.ts";
import { readLegacyMaps } from "./legacy-maps.ts";
import { findFunctions, Linker } from "./link-programs.ts";
import { type ElfFile, type ElfSection, type ElfSymbol, parseELF } from "./read-elf.ts";
import { parseSectionName } from "./section-def.ts";

/**
 * Reads a BPF ELF object into a {@link CollectionSpec}: programs (one per function of
 * each program section, with the `.text` subprograms they call appended), maps
 * (`.maps`, legacy `maps`, global data, `.kconfig`), variables, externs, licence,
 * kernel version and BTF. CO-RE relocations, map fds and kernel symbols are recorded
 * in each program for the loader to resolve.
 *
 * @example
 * ```ts
 * const spec = loadCollectionSpec(new Uint8Array(readFileSync("prog.bpf.o")));
 * for (const [name, p] of Object.entries(spec.programs)) console.log(name, p.section);
 * ```
 * @throws {ELFError} naming the section and offset of anything malformed (BTF errors
 * are wrapped, with the BTFError as `cause`)
 */
export function loadCollectionSpec(bytes: Uint8Array): CollectionSpec {
  try {
    return load(plainBytes(bytes));
  } catch (e) {
    // Type lookups in malformed BTF (a member naming a missing id...) end up here.
    if (e instanceof BTFError) {
      throw new ELFError(`BTF: ${e.reason}`, { section: ".BTF" }, { cause: e });
    }
    throw e;
  }
}

function load(bytes: Uint8Array): CollectionSpec {
  const elf = parseELF(bytes);
  if (elf.header.machine !== EM_BPF) {
    throw new ELFError(
      `machine ${elf.header.machine} is not EM_BPF (${EM_BPF}): not a BPF object`,
      { offset: 18 },
    );
  }
  const license = readLicense(elf);
  const kernelVersion = readVersion(elf);
  const { btf, btfBytes, ext, externs } = readBTFAndExterns(elf);

  // Maps, in the object's order: .maps / maps, then global data, then .kconfig.
  const elfMaps: ElfMap[] = [];
  const maps: Record<string, MapSpec> = {};
  const variables: Record<string, VariableSpec> = {};
  const dataMaps = new Map<number, string>();
  const addMap = (m: MapSpec, sec: ElfSection | undefined) => {
    if (Object.hasOwn(maps, m.name)) {
      throw new ELFError(`two maps are named '${m.name}'`, sec && { section: sec.name });
    }
    maps[m.name] = m;
  };
  for (const sec of elf.sections) {
    if (sec.name === ".maps") {
      for (const m of readBtfMaps(elf, sec, btf)) {
        elfMaps.push(m);
        addMap(m.spec, sec);
      }
    } else if (sec.name === "maps") {
      for (const m of readLegacyMaps(elf, sec)) {
        elfMaps.push(m);
        addMap(m.spec, sec);
      }
    }
  }
  for (const sec of elf.sections) {
    if (!isGlobalDataSection(sec) || sec.size === 0) continue;
    const g = readGlobalData(elf, sec, btf);
    addMap(g.map, sec);
    dataMaps.set(sec.index, sec.name);
    for (const v of g.variables) variables[v.name] = v;
  }
  if (externs.kconfigMap) addMap(externs.kconfigMap, undefined);

  // Programs.
  const text = elf.section(".text");
  const funcs = findFunctions(elf, text?.index);
  const linker = new Linker(
    elf,
    funcs,
    {
      mapAt: (shndx, offset) =>
        elfMaps.find((m) => m.shndx === shndx && m.offset === offset)?.spec.name,
      dataMap: (shndx) => dataMaps.get(shndx),
      extern: (index) => externs.bySymbol.get(index),
      kconfigMap: KCONFIG_MAP,
    },
    ext,
  );
  const programs: Record<string, ProgramSpec> = {};
  for (const f of funcs) {
    if (f.subprogram) continue;
    if (Object.hasOwn(programs, f.name)) {
      throw new ELFError(`two programs are named '${f.name}'`, { section: f.section.name });
    }
    const linked = linker.link(f);
    const sec = parseSectionName(f.section.name);
    const programBtf: ProgramBtf | undefined =
      btfBytes === undefined
        ? undefined
        : {
            btf: btfBytes,
            ...(linked.funcInfo && { funcInfo: linked.funcInfo, funcInfoRecordSize: 8 }),
            ...(linked.lineInfo && { lineInfo: linked.lineInfo, lineInfoRecordSize: 16 }),
          };
    programs[f.name] = {
      name: f.name,
      type: sec?.type ?? ProgType.UNSPEC,
      ...(sec?.expectedAttachType !== undefined && {
        expectedAttachType: sec.expectedAttachType,
      }),
      ...(sec?.attachTo !== undefined && { attachTo: sec.attachTo }),
      license,
      instructions: linked.instructions,
      ...(kernelVersion !== undefined && { kernelVersion }),
      ...(sec !== undefined && sec.flags !== 0 && { flags: sec.flags }),
      ...(programBtf !== undefined && { btf: programBtf }),
      section: f.section.name,
      attach: sec ? attachDescriptor(sec) : unknownSectionDescriptor(f.section.name),
      references: linked.references,
      coreRelocations: linked.coreRelocations,
    };
  }

  return {
    programs,
    maps,
    variables,
    externs: externs.list,
    license,
    ...(kernelVersion !== undefined && { kernelVersion }),
    ...(btf !== undefined && { btf }),
    ...(btfBytes !== undefined && { btfBytes }),
  };
}

const UTF8 = new TextDecoder();

function readLicense(elf: ElfFile): string {
  const sec = elf.section("license");
  if (sec === undefined) return "";
  const nul = sec.data.indexOf(0);
  return UTF8.decode(sec.data.subarray(0, nul < 0 ? sec.data.length : nul));
}

function readVersion(elf: ElfFile): number | undefined {
  const sec = elf.section("version");
  if (sec === undefined) return undefined;
  if (sec.data.length !== 4) {
    throw new ELFError(`version section is ${sec.data.length} bytes, expected 4 (a u32)`, {
      section: sec.name,
      offset: 0,
    });
  }
  return new DataView(sec.data.buffer, sec.data.byteOffset, 4).getUint32(0, true);
}

/**
 * `.BTF` with DATASEC sizes and offsets filled in from the ELF, the externs, and
 * `.BTF.ext`. `.BTF` is parsed once: the externs read only what the DATASEC fixup
 * leaves alone (names, types, sizes, FUNC linkage), so they are read from the fixed
 * BTF. Only an object with `__kconfig` externs is parsed a second time, because the
 * `.kconfig` DATASEC's layout comes from the externs' types.
 */
function readBTFAndExterns(elf: ElfFile): {
  btf?: BTF;
  btfBytes?: Uint8Array;
  ext?: BTFExt;
  externs: Externs;
} {
  const sec = elf.section(".BTF");
  if (sec === undefined) return { externs: readExterns(elf, undefined) };
  let btfBytes: Uint8Array;
  // Symbols by section and name (the first wins, as a search would find it): a DATASEC
  // of 65,535 variables costs one lookup each, not a scan of the symbol table.
  // Keyed by section, then name: no key string is built per symbol.
  let bySection: Map<number, Map<string, ElfSymbol>> | undefined;
  const symbolIn = (shndx: number, name: string): ElfSymbol | undefined => {
    if (bySection === undefined) {
      bySection = new Map();
      for (const s of elf.symbols) {
        let names = bySection.get(s.shndx);
        if (names === undefined) {
          names = new Map();
          bySection.set(s.shndx, names);
        }
        if (!names.has(s.name)) names.set(s.name, s);
      }
    }
    return bySection.get(shndx)?.get(name);
  };
  // Functions made static (most objects have none: then no FUNC's name is read).
  const hidden = hiddenFunctions(elf);
  try {
    btfBytes = fixupDatasecs(sec.data, {
      sectionSize: (name) => elf.section(name)?.size,
      variable: (section, name) => {
        const idx = elf.section(section)?.index;
        const sym = idx === undefined ? undefined : symbolIn(idx, name);
        return sym && { offset: sym.value, hidden: sym.visibility === 1 || sym.visibility === 2 };
      },
      ...(hidden.size > 0 && { hiddenFunction: (name: string) => hidden.has(name) }),
    });
  } catch (e) {
    // Malformed BTF trips the fixup's walk: the parser says precisely what is wrong.
    if (!(e instanceof ELFError)) wrapBTF(sec, () => parseBTF(sec.data));
    return wrapBTF(sec, () => {
      throw e;
    });
  }
  let btf = wrapBTF(sec, () => parseBTF(btfBytes));
  const externs = readExterns(elf, btf);
  const offsets = new Map<string, number>();
  let kconfigSize = 0;
  for (const e of externs.list) {
    if (e.kind !== "kconfig") continue;
    offsets.set(e.name, e.offset!);
    kconfigSize = Math.max(kconfigSize, e.offset! + e.size!);
  }
  if (offsets.size > 0) {
    btfBytes = fixupDatasecs(btfBytes, {
      sectionSize: () => undefined,
      variable: () => undefined,
      kconfig: { size: kconfigSize, offsets },
    });
    const fixed = btfBytes;
    btf = wrapBTF(sec, () => parseBTF(fixed));
  }
  const extSec = elf.section(".BTF.ext");
  if (extSec === undefined) return { btf, btfBytes, externs };
  const parsed = btf;
  const ext = wrapBTF(extSec, () => parseBTFExt(extSec.data, parsed));
  return { btf, btfBytes, ext, externs };
}

function wrapBTF<T>(sec: ElfSection, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BTFError || e instanceof RangeError) {
      const offset = e instanceof BTFError ? e.offset : undefined;
      throw new ELFError(
        e instanceof BTFError ? e.reason : e.message,
        { section: sec.name, ...(offset !== undefined && { offset }) },
        { cause: e },
      );
    }
    throw e;
  }
}

/** Global and weak functions with hidden or internal visibility (STV_HIDDEN, STV_INTERNAL). */
function hiddenFunctions(elf: ElfFile): Set<string> {
  const out = new Set<string>();
  for (const s of elf.symbols) {
    const globalish = s.binding === SymbolBinding.GLOBAL || s.binding === SymbolBinding.WEAK;
    if (s.type === SymbolType.FUNC && globalish && (s.visibility === 1 || s.visibility === 2)) {
      out.add(s.name);
    }
  }
  return out;
}
