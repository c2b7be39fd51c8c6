/**
 * `Collection`: a whole object in the kernel — its maps, programs and global
 * variables — loaded from a {@link CollectionSpec} the way libbpf's
 * `bpf_object__load` does:
 *
 * 1. the object's BTF, sanitised for this kernel, is loaded once (a kernel that
 *    refuses it gets maps and programs without BTF, as libbpf falls back);
 * 2. maps are created in the object's order: global-data maps named like libbpf's
 *    (object name + section, 15 characters), their contents written and `.rodata` /
 *    `.kconfig` frozen; maps pinned by name reuse a compatible pinned map or are
 *    pinned under `pinPath`; `mapReplacements` stand in for maps of the same name;
 * 3. externs are resolved (kconfig values, kallsyms addresses, kernel BTF ids);
 * 4. each program gets its CO-RE relocations applied against the kernel's BTF, map
 *    fds and values and extern ids patched in, and is loaded with the BTF's func and
 *    line info; a verifier error at a poisoned CO-RE instruction becomes a
 *    {@link CoreRelocationUnsatisfiedError} naming the relocation;
 * 5. program-array and map-of-maps slots are filled.
 *
 * If anything fails, everything created so far is closed (and maps this load pinned
 * are unpinned) before the error propagates.
 *
 * @module
 */

import { unlinkSync } from "node:fs";
import { applyCoreRelocations, type CoreApplied, CoreResolver } from "../../btf/core.ts";
import type { Backend, LoadedCollection, LoadOptions } from "../../spec/backend.ts";
import type { CollectionSpec, VariableSpec } from "../../spec/collection-spec.ts";
import { isGlobalDataName } from "../../spec/collection-spec.ts";
import { checkMapCompatible } from "../../spec/map-compat.ts";
import type { MapSpec } from "../../spec/map-spec.ts";
import type { ProgramSpec } from "../../spec/program-spec.ts";
import { constantPatches } from "../../spec/variable-values.ts";
import {
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_KFUNC_CALL,
  MapFlags,
  MapType,
  ProgType,
} from "../../uapi/index.ts";
import { KernelBTF, moduleBTF, moduleBTFNames, probeBTFFeatures, vmlinuxBTF } from "../btf.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import type { Link } from "../link.ts";
import type { AttachTarget } from "../links/attach-program.ts";
import { LinkSet } from "../links/link-set.ts";
import { BpfMap, pinByNamePath, specShape, wasReusedFromPin } from "../map.ts";
import { DEFAULT_BPFFS } from "../pin.ts";
import { Program } from "../program.ts";
import { SyscallError } from "../sys/index.ts";
import { VerifierError } from "../verifier-error.ts";
import { CoreRelocationUnsatisfiedError } from "./errors.ts";
import {
  ExternError,
  type KernelBTFSource,
  kconfigValue,
  type ResolvedKsym,
  resolveKsym,
} from "./externs.ts";
import { kernelBTF } from "./object-btf.ts";
import { GlobalDataMemory, Variable } from "./variables.ts";

/** Options of {@link Collection.load}. */
export interface CollectionOptions {
  /** Verifier log level for every program (see `LoadOptions.logLevel`); default 0. */
  readonly logLevel?: number;
  /** First verifier log buffer size. */
  readonly logSize?: number;
  /**
   * Directory on bpffs for maps with `pinning: "byName"` (LIBBPF_PIN_BY_NAME);
   * default /sys/fs/bpf.
   */
  readonly pinPath?: string;
  /**
   * Existing maps to use instead of creating the map of the same name (they must be
   * compatible: type, key and value size, max entries, flags). The collection does not
   * close them.
   */
  readonly mapReplacements?: Readonly<Record<string, BpfMap>>;
  /**
   * New initial values of read-only global variables (`const volatile` in `.rodata`),
   * written before the map is frozen and the programs verified — libbpf skeletons'
   * `rodata`, cilium/ebpf's `RewriteConstants`. Bytes of the variable's size, or a
   * number/bigint stored little-endian.
   */
  readonly constants?: Readonly<Record<string, Uint8Array | number | bigint>>;
  /**
   * The object's name, prefixing global-data map names like libbpf's (`xdp_prog.bss`);
   * {@link loadCollection} passes the file name up to its first dot. Default: none.
   */
  readonly objectName?: string;
  /** Extra `CONFIG_X=value` for kconfig externs, over the kernel's own configuration. */
  readonly kconfig?: Readonly<Record<string, string>>;
  /** The kernel BTF CO-RE and ksyms resolve against; default /sys/kernel/btf. */
  readonly kernelBTF?: KernelBTFSource;
  /** Only these programs are loaded (default: every program of the spec). */
  readonly programs?: readonly string[];
}

const defaultKernelBTF: KernelBTFSource = {
  vmlinux: vmlinuxBTF,
  moduleNames: moduleBTFNames,
  module: moduleBTF,
};

/**
 * libbpf's name for an internal (global data) map: the object name then the section
 * name, 15 characters at most; sections with a second dot (".rodata.str1.1") are
 * named alone.
 *
 * @example
 * ```ts
 * internalMapName("xdp-maps", ".data");          // "xdp_maps.data"
 * internalMapName("xdp-maps", ".rodata.banner"); // ".rodata.banner"
 * ```
 */
export function internalMapName(objectName: string, section: string): string {
  const suffix = Math.max(7, section.length);
  const prefix = section.indexOf(".", 1) >= 0 ? 0 : Math.min(15 - suffix, objectName.length);
  const name = (objectName.slice(0, Math.max(0, prefix)) + section).slice(0, 15);
  return name.replace(/[^A-Za-z0-9_.]/g, "_");
}

/** What the load created, so a failure can undo it. */
class Resources {
  readonly maps = new Map<string, BpfMap>();
  readonly borrowed = new Set<BpfMap>();
  /** Pinned maps that existed before this load (their slots are left as they are). */
  readonly reused = new Set<BpfMap>();
  readonly programs = new Map<string, Program>();
  readonly pinnedHere: string[] = [];
  readonly memories: GlobalDataMemory[] = [];
  btf: KernelBTF | undefined;
  closed = false;

  close(unpin: boolean): void {
    if (this.closed) return;
    this.closed = true;
    for (const m of this.memories) m.close();
    for (const p of this.programs.values()) p.close();
    for (const m of this.maps.values()) if (!this.borrowed.has(m)) m.close();
    this.btf?.close();
    if (unpin) {
      for (const path of this.pinnedHere) {
        try {
          unlinkSync(path);
        } catch {}
      }
    }
  }
}

/**
 * A loaded object: maps, programs and global variables by name. `close()` closes every
 * descriptor it owns (pins and attached links keep their objects alive in the kernel).
 *
 * The type parameters name the object's maps, programs and variables, so
 * `coll.maps.events` is typed (`tsbpf gen types` writes them); by default any name goes
 * and lookups may be undefined.
 *
 * @example
 * ```ts
 * const spec = loadCollectionSpec(readFileSync("xdp.bpf.o"));
 * using coll = Collection.load(spec, { constants: { drop_port: 53 } });
 * coll.programs.xdp_count.run({ data: new Uint8Array(64) });
 * console.log(coll.variables.packets_seen.toBigInt());
 * ```
 */
export class Collection<
  M extends string = string,
  P extends string = string,
  V extends string = string,
> implements LoadedCollection<M, P, V>
{
  /** Maps by their spec name (global data maps as ".data", ".bss", ".rodata"...). */
  readonly maps: Readonly<Record<M, BpfMap>>;
  /** Programs by name. */
  readonly programs: Readonly<Record<P, Program>>;
  /** Global variables by name. */
  readonly variables: Readonly<Record<V, Variable>>;
  /** The object's BTF in the kernel, when the kernel accepted it. */
  readonly btf: KernelBTF | undefined;
  /**
   * What each program's CO-RE relocations resolved to (and which instructions were
   * poisoned), by program name.
   */
  readonly core: Readonly<Record<P, CoreApplied | undefined>>;
  readonly #res: Resources;

  private constructor(
    res: Resources,
    variables: Record<string, Variable>,
    core: Record<string, CoreApplied | undefined>,
  ) {
    this.#res = res;
    this.maps = Object.fromEntries(res.maps) as Record<M, BpfMap>;
    this.programs = Object.fromEntries(res.programs) as Record<P, Program>;
    this.variables = variables as Record<V, Variable>;
    this.btf = res.btf;
    this.core = core as Record<P, CoreApplied | undefined>;
  }

  /**
   * Loads `spec` into the kernel (see the module comment for the steps).
   *
   * @throws VerifierError (or {@link CoreRelocationUnsatisfiedError}) when a program is
   * rejected; ExternError for an extern the kernel cannot provide; CoreRelocationError
   * for a CO-RE relocation that cannot be applied at all; SyscallError / MapSpecError
   * for maps; Error for an incompatible pinned map or replacement, naming the mismatch.
   * Nothing created before the failure stays open.
   */
  static load<M extends string = string, P extends string = string, V extends string = string>(
    spec: CollectionSpec,
    opts: CollectionOptions = {},
  ): Collection<M, P, V> {
    const res = new Resources();
    try {
      const { variables, core } = loadInto(spec, opts, res);
      return new Collection<M, P, V>(res, variables, core);
    } catch (e) {
      res.close(true);
      throw e;
    }
  }

  /**
   * The map named `name`.
   *
   * @throws Error listing the collection's maps when there is none by that name
   */
  map(name: string): BpfMap {
    const m = this.#res.maps.get(name);
    if (!m)
      throw new Error(
        `no map "${name}" in the collection (maps: ${[...this.#res.maps.keys()].join(", ")})`,
      );
    return m;
  }

  /**
   * The program named `name`.
   *
   * @throws Error listing the collection's programs when there is none by that name
   */
  program(name: string): Program {
    const p = this.#res.programs.get(name);
    if (!p) {
      throw new Error(
        `no program "${name}" in the collection (programs: ${[...this.#res.programs.keys()].join(", ")})`,
      );
    }
    return p;
  }

  /**
   * The variable named `name`.
   * @throws Error listing the collection's variables when there is none by that name
   */
  variable(name: string): Variable {
    const v = (this.variables as Record<string, Variable>)[name];
    if (!v)
      throw new Error(
        `no variable "${name}" in the collection (variables: ${Object.keys(this.variables).join(", ")})`,
      );
    return v;
  }

  /**
   * Attaches every program libbpf's skeleton would attach automatically (its SEC()
   * names a hook and a target: tracepoints, kprobes, uprobes, fentry, LSM, iterators...),
   * as `__attach` does; programs that need a target only the caller knows (XDP, tc,
   * cgroups) or have no automatic hook are left alone. The links close together.
   * @throws the first attach error; the links made before it are closed first
   * @example
   * ```ts
   * using coll = Collection.load(spec);
   * using links = coll.attachAll();
   * ```
   */
  attachAll(target: AttachTarget = {}): LinkSet {
    const links = new Map<string, Link>();
    try {
      for (const [name, prog] of this.#res.programs) {
        if (!prog.spec?.attach?.autoAttach) continue;
        links.set(name, prog.attach(target));
      }
    } catch (e) {
      for (const l of links.values()) l.close();
      throw e;
    }
    return new LinkSet(links);
  }

  /** Closes every descriptor the collection owns (not replacement maps; pins stay). */
  close(): void {
    this.#res.close(false);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function needsKernelBTF(spec: CollectionSpec, programs: readonly ProgramSpec[]): boolean {
  return (
    programs.some((p) => (p.coreRelocations?.length ?? 0) > 0) ||
    spec.externs.some((e) => e.kind === "kfunc" || e.kind === "ksym")
  );
}

function loadInto(
  spec: CollectionSpec,
  opts: CollectionOptions,
  res: Resources,
): { variables: Record<string, Variable>; core: Record<string, CoreApplied | undefined> } {
  const kernel = opts.kernelBTF ?? defaultKernelBTF;
  const objectName = opts.objectName ?? "";
  const wanted = opts.programs ?? Object.keys(spec.programs);
  const programs: ProgramSpec[] = wanted.map((name) => {
    const p = spec.programs[name];
    if (!p) {
      throw new Error(
        `no program "${name}" in the object (programs: ${Object.keys(spec.programs).join(", ")})`,
      );
    }
    if (p.type === ProgType.UNSPEC) {
      throw new Error(
        `program "${name}" is in section "${p.section ?? "?"}", which names no program type (see libbpf's SEC() names)`,
      );
    }
    return p;
  });

  // 1. BTF.
  let btfFd: number | undefined;
  let lineInfoValid = true;
  if (spec.btf) {
    try {
      const blob = kernelBTF(spec.btf, spec.btfBytes, probeBTFFeatures());
      lineInfoValid = blob.stringsPreserved;
      res.btf = KernelBTF.load(blob.bytes, {
        what: objectName ? `object "${objectName}"` : "the object",
      });
      btfFd = res.btf.fd;
    } catch (e) {
      // As libbpf: when the kernel refuses the object's BTF (an older kernel, even after
      // sanitising), load without it — maps and programs that need it then fail with
      // the kernel's own reason. Anything else is a bug to report, not to hide.
      if (!(e instanceof SyscallError)) throw e;
      res.btf = undefined;
    }
  }

  // 2. Maps.
  const constants = constantPatches(spec, opts.constants ?? {});
  const pinPath = opts.pinPath ?? DEFAULT_BPFFS;
  for (const m of Object.values(spec.maps)) {
    const replacement = opts.mapReplacements?.[m.name];
    if (replacement) {
      checkReplacement(replacement, m);
      res.maps.set(m.name, replacement);
      res.borrowed.add(replacement);
      continue;
    }
    let ms: MapSpec = m;
    if (isGlobalDataName(m.name)) {
      ms = { ...ms, name: internalMapName(objectName, m.name) };
      if (m.name === ".kconfig") {
        ms = {
          ...ms,
          contents: [
            {
              key: u32(0),
              value: kconfigValue(spec, m.valueSize, opts.kconfig ? { extra: opts.kconfig } : {}),
            },
          ],
        };
      } else {
        const patch = constants.get(m.name);
        if (patch) {
          const value = (m.contents?.[0]?.value ?? new Uint8Array(m.valueSize)).slice();
          for (const [off, bytes] of patch) value.set(bytes, off);
          ms = { ...ms, contents: [{ key: u32(0), value }] };
        }
      }
    }
    ms = btfFd === undefined ? withoutBTF(ms) : btfForType(ms);
    ms = numaAsLibbpf(ms);
    const pinned = ms.pinning === "byName";
    const pinAt = pinned ? pinByNamePath(pinPath, ms.name) : "";
    const map = BpfMap.create(ms, {
      ...(btfFd !== undefined && { btfFd }),
      ...(pinned && { pinPath }),
    });
    // Asking the map rather than statfs(2)-ing the pin before creating it: one system
    // call fewer per pinned map, and no window between the check and the open.
    const existed = pinned && wasReusedFromPin(map);
    res.maps.set(m.name, map);
    if (pinned && !existed) res.pinnedHere.push(pinAt);
    if (existed) res.reused.add(map);
  }
  // Map-of-maps slots name maps, which all exist now.
  for (const m of Object.values(spec.maps)) {
    if (m.type === MapType.PROG_ARRAY || !m.contentRefs?.length) continue;
    const outer = res.maps.get(m.name)!;
    if (res.borrowed.has(outer) || res.reused.has(outer)) continue;
    for (const ref of m.contentRefs) {
      const inner = res.maps.get(ref.name);
      if (!inner)
        throw new Error(
          `map "${m.name}" slot ${ref.key} names map "${ref.name}", which the object does not define`,
        );
      outer.update(u32(ref.key), u32(inner.fd));
    }
  }

  // 3 and 4. Programs.
  const kernelNeeded = needsKernelBTF(spec, programs);
  const resolver =
    kernelNeeded && spec.btf
      ? new CoreResolver(spec.btf, {
          vmlinux: kernel.vmlinux(),
          modules: () => kernel.moduleNames().map((name) => ({ name, btf: kernel.module(name) })),
        })
      : undefined;
  const ksyms = new Map<string, ResolvedKsym>();
  const ksymOf = (name: string): ResolvedKsym => {
    let r = ksyms.get(name);
    if (r === undefined) {
      const e = spec.externs.find((x) => x.name === name);
      if (!e)
        throw new ExternError(name, "is referenced by a program but not declared as an extern");
      r = resolveKsym(spec, e, kernel);
      if (r.kind === "btf" && r.module !== undefined) {
        throw new ExternError(
          name,
          `lives in kernel module ${r.module}: module ksyms and kfuncs are not supported yet`,
        );
      }
      ksyms.set(name, r);
    }
    return r;
  };
  const core: Record<string, CoreApplied | undefined> = {};
  for (const p of programs) {
    let insns = p.instructions;
    let applied: CoreApplied | undefined;
    if (p.coreRelocations?.length) {
      if (!resolver)
        throw new Error(`program "${p.name}" has CO-RE relocations but the object has no BTF`);
      applied = applyCoreRelocations(insns, p.coreRelocations, resolver);
      insns = applied.instructions;
    }
    core[p.name] = applied;
    insns = patchReferences(p, insns === p.instructions ? insns.slice() : insns, res, ksymOf, spec);
    let prog: Program;
    try {
      prog = Program.load(
        { ...p, instructions: insns, btf: programBTF(p, btfFd, lineInfoValid) },
        {
          ...(opts.logLevel !== undefined && { logLevel: opts.logLevel }),
          ...(opts.logSize !== undefined && { logSize: opts.logSize }),
          ...(btfFd !== undefined && { btfFd }),
        },
      );
    } catch (e) {
      if (e instanceof VerifierError && applied && e.instruction !== undefined) {
        const hit = applied.poisoned.find((x) => x.insn === e.instruction);
        if (hit) throw new CoreRelocationUnsatisfiedError(e, p.name, hit.insn, hit.resolution);
      }
      throw e;
    }
    res.programs.set(p.name, prog);
    // As libbpf: .rodata is bound to every program, so it lives as long as any of them
    // and `prog show` finds the object's bpf_metadata_* variables in it.
    const rodata = res.maps.get(".rodata");
    if (rodata) bindRodata(prog, rodata);
  }

  // 5. Program-array slots.
  for (const m of Object.values(spec.maps)) {
    if (m.type !== MapType.PROG_ARRAY || !m.contentRefs?.length) continue;
    const arr = res.maps.get(m.name)!;
    if (res.borrowed.has(arr) || res.reused.has(arr)) continue;
    for (const ref of m.contentRefs) {
      const prog = res.programs.get(ref.name);
      if (!prog) {
        if (spec.programs[ref.name] && opts.programs) continue; // not loaded on request
        throw new Error(
          `program array "${m.name}" slot ${ref.key} names program "${ref.name}", which the object does not define`,
        );
      }
      arr.update(u32(ref.key), u32(prog.fd));
    }
  }

  // Variables.
  const memories = new Map<string, GlobalDataMemory>();
  const variables: Record<string, Variable> = {};
  for (const v of Object.values(spec.variables) as VariableSpec[]) {
    const map = res.maps.get(v.map);
    if (!map) continue;
    let mem = memories.get(v.map);
    if (!mem) {
      const ms = spec.maps[v.map];
      mem = new GlobalDataMemory(
        map,
        ms?.freeze === true || ((ms?.flags ?? 0) & MapFlags.RDONLY) !== 0,
      );
      memories.set(v.map, mem);
      res.memories.push(mem);
    }
    variables[v.name] = new Variable(v, mem);
  }
  return { variables, core };
}

/** The lddw/call patches of map fds, map values and externs. */
function patchReferences(
  p: ProgramSpec,
  insns: Uint8Array,
  res: Resources,
  ksymOf: (name: string) => ResolvedKsym,
  spec: CollectionSpec,
): Uint8Array {
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  for (const r of p.references ?? []) {
    const at = r.insn * 8;
    switch (r.kind) {
      case "map":
      case "mapValue": {
        const map = res.maps.get(r.map);
        if (!map)
          throw new Error(
            `program "${p.name}" instruction ${r.insn} refers to map "${r.map}", which the object does not define`,
          );
        view.setInt32(at + 4, map.fd, true);
        break;
      }
      case "ksym": {
        const k = ksymOf(r.name);
        const setSrc = (src: number) => {
          insns[at + 1] = (insns[at + 1]! & 0x0f) | (src << 4);
        };
        if (k.kind === "btf") {
          setSrc(BPF_PSEUDO_BTF_ID);
          view.setInt32(at + 4, k.btfId, true);
          view.setInt32(at + 12, 0, true);
        } else {
          const addr = k.kind === "address" ? k.address : 0n;
          setSrc(0);
          view.setUint32(at + 4, Number(addr & 0xffffffffn), true);
          view.setUint32(at + 12, Number((addr >> 32n) & 0xffffffffn), true);
        }
        break;
      }
      case "kfunc": {
        const k = ksymOf(r.name);
        if (k.kind === "btf") {
          insns[at + 1] = (insns[at + 1]! & 0x0f) | (BPF_PSEUDO_KFUNC_CALL << 4);
          view.setInt32(at + 4, k.btfId, true);
          view.setInt16(at + 2, 0, true);
        } else {
          // A weak kfunc the kernel lacks: a call the verifier rejects only if reached
          // (libbpf's poison, helper id 2002000000 + extern index).
          const idx = spec.externs.findIndex((e) => e.name === r.name);
          insns[at + 1] = 0;
          view.setInt16(at + 2, 0, true);
          view.setInt32(at + 4, 2002000000 + Math.max(0, idx), true);
        }
        break;
      }
    }
  }
  return insns;
}

/** The program's func/line info for the collection's BTF (none without BTF). */
function programBTF(
  p: ProgramSpec,
  btfFd: number | undefined,
  lineInfoValid: boolean,
): ProgramSpec["btf"] {
  if (btfFd === undefined || !p.btf) return undefined;
  if (lineInfoValid) return p.btf;
  const { lineInfo: _l, lineInfoRecordSize: _s, ...rest } = p.btf;
  return rest;
}

/** Map types created without BTF key/value types (libbpf's list). */
const NO_BTF_TYPES = new Set<number>([
  MapType.PERF_EVENT_ARRAY,
  MapType.CGROUP_ARRAY,
  MapType.STACK_TRACE,
  MapType.ARRAY_OF_MAPS,
  MapType.HASH_OF_MAPS,
  MapType.DEVMAP,
  MapType.DEVMAP_HASH,
  MapType.CPUMAP,
  MapType.XSKMAP,
  MapType.SOCKMAP,
  MapType.SOCKHASH,
  MapType.QUEUE,
  MapType.STACK,
  MapType.ARENA,
]);

/** Drops BTF type ids the kernel refuses for the map's type (and its inner map's). */
function btfForType(m: MapSpec): MapSpec {
  let out = m;
  if (NO_BTF_TYPES.has(m.type)) {
    const { btfKeyTypeId: _k, btfValueTypeId: _v, ...rest } = m;
    out = rest;
  } else if (m.type === MapType.STRUCT_OPS) {
    const { btfValueTypeId: _v, ...rest } = m;
    out = rest;
  }
  return out.innerMap ? { ...out, innerMap: btfForType(out.innerMap) } : out;
}

/**
 * libbpf passes a `.maps` definition's numa_node to the kernel without setting
 * BPF_F_NUMA_NODE unless map_flags has it, so the node only counts with the flag; the
 * same here, so maps pinned by either loader have the same flags and can be shared.
 */
function numaAsLibbpf(m: MapSpec): MapSpec {
  let out = m;
  if (m.numaNode !== undefined && ((m.flags ?? 0) & MapFlags.NUMA_NODE) === 0) {
    const { numaNode: _n, ...rest } = m;
    out = rest;
  }
  return out.innerMap ? { ...out, innerMap: numaAsLibbpf(out.innerMap) } : out;
}

function withoutBTF(m: MapSpec): MapSpec {
  const { btfKeyTypeId: _k, btfValueTypeId: _v, innerMap, ...rest } = m;
  return innerMap ? { ...rest, innerMap: withoutBTF(innerMap) } : rest;
}

function checkReplacement(map: BpfMap, spec: MapSpec): void {
  checkMapCompatible("replacement map", spec.name, map, specShape(numaAsLibbpf(spec)));
}

/** Binds `.rodata` to `prog`; kernels before 5.10 have no BPF_PROG_BIND_MAP (libbpf then only warns). */
function bindRodata(prog: Program, rodata: BpfMap): void {
  try {
    prog.bindMap(rodata);
  } catch (e) {
    if (!(e instanceof NotSupportedError)) throw e;
  }
}

/**
 * The kernel as a {@link Backend}: `kernelBackend.load(spec)` is `Collection.load(spec)`,
 * for code written once for the kernel and the VM (`vmBackend` from "tsbpf/vm").
 */
export const kernelBackend: Backend = {
  name: "kernel",
  load<M extends string = string, P extends string = string, V extends string = string>(
    spec: CollectionSpec,
    opts: LoadOptions = {},
  ): Collection<M, P, V> {
    return Collection.load<M, P, V>(spec, opts);
  },
};
