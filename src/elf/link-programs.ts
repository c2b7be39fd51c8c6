/**
 * Programs from executable sections: each function symbol of a program section is
 * an entry program; functions of `.text` are subprograms. A program's instructions are
 * its own function followed by every function it reaches through bpf-to-bpf calls and
 * function addresses (`bpf_loop` callbacks), with call offsets rewritten for that
 * layout. Map, global-data and extern relocations become {@link ProgramReference}s;
 * `.BTF.ext` func/line info and CO-RE records are rebased to the program.
 *
 * @module
 */

import type { BTFExt } from "../btf/index.ts";
import type { CoreRelocation, ExternSpec, ProgramReference } from "../spec/index.ts";
import { newBytes, viewOf } from "../uapi/bytes.ts";
import {
  BPF_CALL,
  BPF_DW,
  BPF_IMM,
  BPF_JMP,
  BPF_LD,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  INSN_SIZE,
} from "../uapi/index.ts";
import {
  BpfReloc,
  bpfRelocName,
  SectionFlags,
  SectionType,
  SHN_LORESERVE,
  SHN_UNDEF,
  SymbolBinding,
  SymbolType,
} from "./constants.ts";
import { ELFError } from "./errors.ts";
import type { ElfFile, ElfRelocation, ElfSection } from "./read-elf.ts";

const CALL = BPF_JMP | BPF_CALL;
const LDDW = BPF_LD | BPF_DW | BPF_IMM;

/** A function: a FUNC symbol's range of instructions in its section. */
export interface Func {
  readonly name: string;
  readonly section: ElfSection;
  /** First instruction (index in the section). */
  readonly start: number;
  /** One past the last instruction. */
  readonly end: number;
  /** True for `.text` functions, which are never programs of their own. */
  readonly subprogram: boolean;
}

/** What a relocation or pseudo instruction at one instruction asks for. */
type Action =
  | { readonly kind: "call" | "func"; readonly insn: number; readonly target: Func }
  | { readonly kind: "map"; readonly insn: number; readonly map: string }
  | {
      readonly kind: "mapValue";
      readonly insn: number;
      readonly map: string;
      readonly offset: number;
    }
  | { readonly kind: "extern"; readonly insn: number; readonly ext: ExternSpec };

/** How the linker finds what symbols refer to. */
export interface Resolver {
  /** The map whose definition starts at `offset` of section `shndx` (`.maps`, `maps`). */
  mapAt(shndx: number, offset: number): string | undefined;
  /** The global-data map of section `shndx`. */
  dataMap(shndx: number): string | undefined;
  /** The extern of symbol `index`. */
  extern(index: number): ExternSpec | undefined;
  /** The map holding kconfig externs. */
  readonly kconfigMap: string;
}

/** A linked program. */
export interface LinkedProgram {
  readonly func: Func;
  readonly instructions: Uint8Array;
  readonly references: ProgramReference[];
  readonly coreRelocations: CoreRelocation[];
  /** `bpf_func_info` records (insn_off in instructions), 8 bytes each. */
  readonly funcInfo?: Uint8Array;
  /** `bpf_line_info` records (insn_off in instructions), 16 bytes each. */
  readonly lineInfo?: Uint8Array;
}

/** Every function of every executable section, in section then address order. */
export function findFunctions(elf: ElfFile, textIndex: number | undefined): Func[] {
  const out: Func[] = [];
  for (const sec of elf.sections) {
    if (!isCodeSection(sec)) continue;
    if (sec.size % INSN_SIZE !== 0) {
      throw new ELFError(`code size ${sec.size} is not a multiple of ${INSN_SIZE}`, {
        section: sec.name,
      });
    }
    const syms = elf.symbols
      .filter((s) => s.shndx === sec.index && s.type === SymbolType.FUNC)
      .sort((a, b) => a.value - b.value);
    const count = sec.size / INSN_SIZE;
    for (const [i, s] of syms.entries()) {
      if (s.value % INSN_SIZE !== 0 || s.size % INSN_SIZE !== 0) {
        throw new ELFError(`function '${s.name}' is not aligned to instructions`, {
          section: sec.name,
          offset: s.value,
        });
      }
      const start = s.value / INSN_SIZE;
      const end = s.size > 0 ? start + s.size / INSN_SIZE : (syms[i + 1]?.value ?? sec.size) / 8;
      if (end > count || start >= end) {
        throw new ELFError(
          `function '${s.name}' (${s.size} bytes at ${s.value}) lies outside the section (${sec.size} bytes)`,
          { section: sec.name, offset: s.value },
        );
      }
      out.push({ name: s.name, section: sec, start, end, subprogram: sec.index === textIndex });
    }
    if (syms.length === 0 && sec.size > 0) {
      // Objects from before clang marked programs STT_FUNC (iproute2 and old kernel
      // samples still ship them): one program per executable section, as iproute2
      // loads them, named by a global symbol at its start or else by the section.
      if (sec.index === textIndex) {
        throw new ELFError("code without a function symbol", { section: sec.name, offset: 0 });
      }
      out.push({
        name: legacyProgramName(elf, sec),
        section: sec,
        start: 0,
        end: count,
        subprogram: false,
      });
    }
  }
  return out;
}

/** A global symbol at offset 0 of `sec`, or the section's name made an identifier. */
function legacyProgramName(elf: ElfFile, sec: ElfSection): string {
  const sym = elf.symbols.find(
    (s) =>
      s.shndx === sec.index &&
      s.value === 0 &&
      s.name !== "" &&
      (s.binding === SymbolBinding.GLOBAL || s.binding === SymbolBinding.WEAK) &&
      s.type !== SymbolType.SECTION,
  );
  return sym ? sym.name : sec.name.replace(/[^A-Za-z0-9_]/g, "_");
}

/** Executable PROGBITS sections. */
export function isCodeSection(sec: ElfSection): boolean {
  return (
    sec.type === SectionType.PROGBITS && (sec.flags & SectionFlags.EXECINSTR) !== 0 && sec.size > 0
  );
}

/** Links programs; one instance per object so each function is analysed once. */
export class Linker {
  readonly #elf: ElfFile;
  readonly #funcs: readonly Func[];
  readonly #resolver: Resolver;
  readonly #ext: BTFExt | undefined;
  readonly #actions = new Map<Func, Action[]>();
  readonly #relocs = new Map<number, Map<number, ElfRelocation>>();

  constructor(elf: ElfFile, funcs: readonly Func[], resolver: Resolver, ext: BTFExt | undefined) {
    this.#elf = elf;
    this.#funcs = funcs;
    this.#resolver = resolver;
    this.#ext = ext;
  }

  /** The program starting at `main`, with what it calls appended. */
  link(main: Func): LinkedProgram {
    const layout: Func[] = [main];
    const startOf = new Map<Func, number>([[main, 0]]);
    let total = main.end - main.start;
    for (let i = 0; i < layout.length; i++) {
      for (const a of this.#analyse(layout[i]!)) {
        if ((a.kind === "call" || a.kind === "func") && !startOf.has(a.target)) {
          startOf.set(a.target, total);
          layout.push(a.target);
          total += a.target.end - a.target.start;
        }
      }
    }
    const insns = newBytes(total * INSN_SIZE);
    const view = viewOf(insns);
    const references: ProgramReference[] = [];
    for (const f of layout) {
      const base = startOf.get(f)!;
      insns.set(f.section.data.subarray(f.start * INSN_SIZE, f.end * INSN_SIZE), base * INSN_SIZE);
      for (const a of this.#analyse(f)) {
        const g = base + (a.insn - f.start);
        const at = g * INSN_SIZE;
        const setSrc = (src: number) => {
          insns[at + 1] = (insns[at + 1]! & 0x0f) | (src << 4);
        };
        switch (a.kind) {
          case "call":
            view.setInt32(at + 4, startOf.get(a.target)! - (g + 1), true);
            break;
          case "func":
            setSrc(BPF_PSEUDO_FUNC);
            view.setInt32(at + 4, startOf.get(a.target)! - (g + 1), true);
            view.setInt32(at + 12, 0, true);
            break;
          case "map":
            setSrc(BPF_PSEUDO_MAP_FD);
            view.setInt32(at + 4, 0, true);
            view.setInt32(at + 12, 0, true);
            references.push({ kind: "map", insn: g, map: a.map });
            break;
          case "mapValue":
            setSrc(BPF_PSEUDO_MAP_VALUE);
            view.setInt32(at + 4, 0, true);
            view.setInt32(at + 12, a.offset, true);
            references.push({ kind: "mapValue", insn: g, map: a.map, offset: a.offset });
            break;
          case "extern": {
            const e = a.ext;
            if (e.kind === "kconfig") {
              setSrc(BPF_PSEUDO_MAP_VALUE);
              view.setInt32(at + 4, 0, true);
              view.setInt32(at + 12, e.offset!, true);
              references.push({
                kind: "mapValue",
                insn: g,
                map: this.#resolver.kconfigMap,
                offset: e.offset!,
              });
            } else if (e.kind === "kfunc" && insns[at] === CALL) {
              setSrc(BPF_PSEUDO_KFUNC_CALL);
              view.setInt32(at + 4, 0, true);
              references.push({ kind: "kfunc", insn: g, name: e.name, weak: e.weak });
            } else {
              setSrc(BPF_PSEUDO_BTF_ID);
              view.setInt32(at + 4, 0, true);
              view.setInt32(at + 12, 0, true);
              references.push({ kind: "ksym", insn: g, name: e.name, weak: e.weak });
            }
            break;
          }
        }
      }
    }
    return {
      func: main,
      instructions: insns,
      references,
      ...this.#btfExt(layout, startOf),
    };
  }

  /** The relocations of a section by byte offset. */
  #relocsOf(sec: ElfSection): Map<number, ElfRelocation> {
    let m = this.#relocs.get(sec.index);
    if (m === undefined) {
      m = new Map();
      for (const r of this.#elf.relocationsFor(sec.index)) {
        if (r.type === BpfReloc.R_BPF_NONE) continue;
        if (r.offset % INSN_SIZE !== 0) {
          throw new ELFError("relocation is not at an instruction boundary", {
            section: sec.name,
            offset: r.offset,
          });
        }
        m.set(r.offset, r);
      }
      this.#relocs.set(sec.index, m);
    }
    return m;
  }

  #funcAt(sec: ElfSection, insn: number, why: string, off: number): Func {
    const f = this.#funcs.find((x) => x.section === sec && x.start === insn);
    if (f === undefined) {
      throw new ELFError(`${why}: no function starts at instruction ${insn} of ${sec.name}`, {
        section: sec.name,
        offset: off,
      });
    }
    return f;
  }

  #analyse(f: Func): Action[] {
    const cached = this.#actions.get(f);
    if (cached) return cached;
    const sec = f.section;
    const data = sec.data;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const relocs = this.#relocsOf(sec);
    const out: Action[] = [];
    for (let i = f.start; i < f.end; i++) {
      const off = i * INSN_SIZE;
      const code = data[off]!;
      // Only calls and lddw are relocated or pseudo: the rest need no lookup at all.
      if (code !== CALL && code !== LDDW) {
        const r = relocs.get(off);
        if (r === undefined) continue;
        throw new ELFError(
          `${bpfRelocName(r.type)} against '${this.#elf.symbolName(r.symbol)}' on instruction ${i} (opcode 0x${code.toString(16)}), which is neither a call nor lddw`,
          { section: sec.name, offset: off },
        );
      }
      const src = data[off + 1]! >> 4;
      const imm = view.getInt32(off + 4, true);
      const r = relocs.get(off);
      if (r !== undefined) {
        out.push(this.#resolve(f, i, code, src, imm, r));
      } else if (code === CALL && src === BPF_PSEUDO_CALL) {
        out.push({ kind: "call", insn: i, target: this.#funcAt(sec, i + imm + 1, "call", off) });
      } else if (code === LDDW && src === BPF_PSEUDO_FUNC) {
        out.push({ kind: "func", insn: i, target: this.#funcAt(sec, i + imm + 1, "lddw", off) });
      }
      if (code === LDDW) {
        if (i + 1 >= f.end) {
          throw new ELFError("lddw at the end of a function", { section: sec.name, offset: off });
        }
        i++;
      }
    }
    this.#actions.set(f, out);
    return out;
  }

  #resolve(f: Func, i: number, code: number, src: number, imm: number, r: ElfRelocation): Action {
    const sec = f.section;
    const off = i * INSN_SIZE;
    const where = { section: sec.name, offset: off };
    const sym = r.symbol;
    const symName = this.#elf.symbolName(sym);
    const want = code === CALL ? BpfReloc.R_BPF_64_32 : BpfReloc.R_BPF_64_64;
    if (r.type !== want) {
      throw new ELFError(
        `${bpfRelocName(r.type)} against '${symName}' on ${code === CALL ? "a call" : "lddw"}, expected ${bpfRelocName(want)}`,
        where,
      );
    }
    if (sym.shndx === SHN_UNDEF) {
      const ext = this.#resolver.extern(sym.index);
      if (ext === undefined) throw new ELFError(`relocation against undefined '${symName}'`, where);
      return { kind: "extern", insn: i, ext };
    }
    const target = this.#elf.sections[sym.shndx];
    if (target === undefined || sym.shndx >= SHN_LORESERVE) {
      throw new ELFError(
        `relocation against '${symName}' in special section 0x${sym.shndx.toString(16)}`,
        where,
      );
    }
    if (code === CALL) {
      if (src !== BPF_PSEUDO_CALL) {
        throw new ELFError(`call relocation against '${symName}' on a helper call`, where);
      }
      if (!isCodeSection(target) || sym.value % INSN_SIZE !== 0) {
        throw new ELFError(`call to '${symName}', which is not code`, where);
      }
      const dest = sym.value / INSN_SIZE + imm + 1;
      return {
        kind: "call",
        insn: i,
        target: this.#funcAt(target, dest, `call to '${symName}'`, off),
      };
    }
    if (isCodeSection(target)) {
      // clang leaves src_reg 0; the loader marks it BPF_PSEUDO_FUNC (as libbpf does).
      if ((sym.value + imm) % INSN_SIZE !== 0) {
        throw new ELFError(`address of '${symName}' + ${imm} is not an instruction`, where);
      }
      const dest = (sym.value + imm) / INSN_SIZE;
      return {
        kind: "func",
        insn: i,
        target: this.#funcAt(target, dest, `address of '${symName}'`, off),
      };
    }
    const map = this.#resolver.mapAt(sym.shndx, sym.value);
    if (map !== undefined) return { kind: "map", insn: i, map };
    const data = this.#resolver.dataMap(sym.shndx);
    if (data !== undefined) {
      return { kind: "mapValue", insn: i, map: data, offset: sym.value + imm };
    }
    throw new ELFError(
      `lddw of '${symName}' in section ${target.name}, which is neither a map nor global data`,
      where,
    );
  }

  /** func_info, line_info and CO-RE records of the functions in `layout`, rebased. */
  #btfExt(
    layout: readonly Func[],
    startOf: ReadonlyMap<Func, number>,
  ): Pick<LinkedProgram, "funcInfo" | "lineInfo" | "coreRelocations"> {
    const coreRelocations: CoreRelocation[] = [];
    const ext = this.#ext;
    if (ext === undefined) return { coreRelocations };
    // Records straight into their kernel layout (bpf_func_info: insn_off, type_id;
    // bpf_line_info: insn_off, file_name_off, line_off, line_col), sized for every
    // record of the functions' sections: fewer arrays made and dropped per program.
    let maxFuncs = 0;
    let maxLines = 0;
    for (const f of layout) {
      maxFuncs += ext.funcInfo.get(f.section.name)?.length ?? 0;
      maxLines += ext.lineInfo.get(f.section.name)?.length ?? 0;
    }
    const funcInfo = newBytes(maxFuncs * 8);
    const lineInfo = newBytes(maxLines * 16);
    const fv = viewOf(funcInfo);
    const lv = viewOf(lineInfo);
    let nf = 0;
    let nl = 0;
    for (const f of layout) {
      const base = startOf.get(f)!;
      const map = (byteOff: number) => {
        const insn = byteOff / INSN_SIZE;
        return insn >= f.start && insn < f.end ? base + insn - f.start : undefined;
      };
      for (const r of ext.funcInfo.get(f.section.name) ?? []) {
        const g = map(r.insnOff);
        if (g === undefined) continue;
        fv.setUint32(nf, g, true);
        fv.setUint32(nf + 4, r.typeId, true);
        nf += 8;
      }
      for (const r of ext.lineInfo.get(f.section.name) ?? []) {
        const g = map(r.insnOff);
        if (g === undefined) continue;
        lv.setUint32(nl, g, true);
        lv.setUint32(nl + 4, r.fileNameOff, true);
        lv.setUint32(nl + 8, r.lineOff, true);
        lv.setUint32(nl + 12, ((r.lineNumber << 10) | r.column) >>> 0, true);
        nl += 16;
      }
      for (const r of ext.coreRelos.get(f.section.name) ?? []) {
        const g = map(r.insnOff);
        if (g !== undefined) {
          coreRelocations.push({ insn: g, typeId: r.typeId, access: r.accessStr, kind: r.kind });
        }
      }
    }
    return {
      coreRelocations,
      ...(nf > 0 && { funcInfo: funcInfo.subarray(0, nf) }),
      ...(nl > 0 && { lineInfo: lineInfo.subarray(0, nl) }),
    };
  }
}
