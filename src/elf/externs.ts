/**
 * Externs: undefined symbols the program uses. `__kconfig` values (listed in the
 * `.kconfig` DATASEC) live in the `.kconfig` map, laid out as libbpf lays them out
 * (largest alignment first, then by name); `__ksym` variables and functions (the
 * `.ksyms` DATASEC) are resolved to kernel BTF ids at load.
 *
 * @module
 */

import type { BTF } from "../btf/index.ts";
import type { ExternSpec, MapSpec } from "../spec/index.ts";
import { MapFlags, MapType } from "../uapi/index.ts";
import { SectionType, SHN_UNDEF, SymbolBinding, SymbolType } from "./constants.ts";
import { ELFError } from "./errors.ts";
import type { ElfFile } from "./read-elf.ts";

/** The name of the map holding kconfig values. */
export const KCONFIG_MAP = ".kconfig";

/** Externs by symbol index, and the `.kconfig` map when there are kconfig externs. */
export interface Externs {
  readonly bySymbol: ReadonlyMap<number, ExternSpec>;
  readonly list: readonly ExternSpec[];
  readonly kconfigMap?: MapSpec;
}

/**
 * Reads every extern of the object.
 *
 * @throws {ELFError} for an extern that is in neither `.kconfig` nor `.ksyms`
 */
export function readExterns(elf: ElfFile, btf: BTF | undefined): Externs {
  const symtab = elf.sections.find((s) => s.type === SectionType.SYMTAB)?.name ?? ".symtab";
  const undef = elf.symbols.filter(
    (s) =>
      s.index > 0 &&
      s.shndx === SHN_UNDEF &&
      s.name !== "" &&
      (s.binding === SymbolBinding.GLOBAL || s.binding === SymbolBinding.WEAK) &&
      s.type !== SymbolType.SECTION &&
      s.type !== SymbolType.FILE,
  );
  if (undef.length === 0) return { bySymbol: new Map(), list: [] };
  const kconfig = new Map<string, number>();
  const ksyms = new Map<string, number>();
  for (const [secName, into] of [
    [".kconfig", kconfig],
    [".ksyms", ksyms],
  ] as const) {
    const ds = btf?.findByName("DATASEC", secName);
    for (const v of ds?.vars ?? []) into.set(btf!.type(v.type).name, v.type);
  }
  const kcfg: { sym: number; spec: Omit<ExternSpec, "offset">; align: number }[] = [];
  const bySymbol = new Map<number, ExternSpec>();
  for (const s of undef) {
    const weak = s.binding === SymbolBinding.WEAK;
    const kc = kconfig.get(s.name);
    if (kc !== undefined) {
      const varType = btf!.type(kc);
      const typeId = varType.kind === "VAR" ? varType.type : kc;
      let size: number;
      try {
        size = btf!.sizeof(typeId);
      } catch {
        throw new ELFError(`kconfig extern '${s.name}' has a type without a size`, {
          section: symtab,
          offset: s.index * 24,
        });
      }
      kcfg.push({
        sym: s.index,
        spec: { name: s.name, kind: "kconfig", weak, typeId, size },
        align: alignOfType(btf!, typeId, size),
      });
      continue;
    }
    const ks = ksyms.get(s.name) ?? btfExternFunc(btf, s.name);
    if (ks !== undefined) {
      const t = btf!.type(ks);
      const kind = t.kind === "FUNC" ? "kfunc" : "ksym";
      const typeId = t.kind === "VAR" ? t.type : ks;
      bySymbol.set(s.index, { name: s.name, kind, weak, typeId });
      continue;
    }
    throw new ELFError(
      `extern '${s.name}' is neither a __kconfig nor a __ksym (not in the .kconfig or .ksyms DATASEC of the object's BTF)`,
      { section: symtab, offset: s.index * 24 },
    );
  }
  if (kcfg.length === 0) return { bySymbol, list: [...bySymbol.values()] };

  // libbpf's order: alignment descending, then size ascending, then name.
  kcfg.sort(
    (a, b) =>
      b.align - a.align || a.spec.size! - b.spec.size! || (a.spec.name < b.spec.name ? -1 : 1),
  );
  let off = 0;
  for (const k of kcfg) {
    off = Math.ceil(off / k.align) * k.align;
    bySymbol.set(k.sym, { ...k.spec, offset: off });
    off += k.spec.size!;
  }
  const ds = btf?.findByName("DATASEC", ".kconfig");
  const kconfigMap: MapSpec = {
    name: KCONFIG_MAP,
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: Math.max(off, 1),
    maxEntries: 1,
    flags: MapFlags.MMAPABLE | MapFlags.RDONLY_PROG,
    ...(ds !== undefined && { btfValueTypeId: ds.id }),
    freeze: true,
  };
  const list = [...bySymbol.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
  return { bySymbol, list, kconfigMap };
}

/** A FUNC with extern linkage named `name` (kfuncs are listed in .ksyms, older clang did not). */
function btfExternFunc(btf: BTF | undefined, name: string): number | undefined {
  const f = btf?.findByName("FUNC", name);
  return f !== undefined && f.linkage === "extern" ? f.id : undefined;
}

/** Alignment of a type as libbpf computes it (`btf__align_of`): arrays align as their elements. */
function alignOfType(btf: BTF, typeId: number, size: number): number {
  let t = btf.resolve(typeId);
  for (let i = 0; i < 32 && t.kind === "ARRAY"; i++) t = btf.resolve(t.type);
  if (t.kind === "INT" || t.kind === "ENUM" || t.kind === "ENUM64" || t.kind === "FLOAT") {
    return Math.min(t.size, 8);
  }
  if (t.kind === "PTR") return 8;
  return alignOf(size);
}

/** Natural alignment of a scalar or array of `size` bytes, capped at 8. */
function alignOf(size: number): number {
  for (const a of [8, 4, 2]) if (size % a === 0) return a;
  return 1;
}
