/**
 * `Collection`: a whole object in the kernel — its maps, programs and global
 * variables — loaded from a {@link CollectionSpec} the way libbpf's
 * `bpf_object__load` does, as a pipeline of stages that each take what the previous
 * ones made (the stages' modules say what each does):
 *
 * 1. load-btf.ts: the object's BTF, sanitised for this kernel, loaded once;
 * 2. load-maps.ts: maps created (global data, pins, replacements), map-of-maps slots;
 * 3. load-programs.ts: externs, CO-RE, reference patches, programs loaded, program
 *    arrays filled;
 * 4. load-variables.ts: variables bound to their maps' bytes.
 *
 * Everything created lives in one {@link Resources}: if any stage fails, everything
 * created so far is closed (and maps this load pinned are unpinned) before the error
 * propagates.
 *
 * @module
 */

import type { CoreApplied } from "../../btf/core.ts";
import type { Backend, LoadedCollection, LoadOptions } from "../../spec/backend.ts";
import type { CollectionSpec } from "../../spec/collection-spec.ts";
import { named } from "../../spec/named.ts";
import type { KernelBTF } from "../btf/kernel-btf.ts";
import type { AttachTarget } from "../links/attach-program.ts";
import type { Link } from "../links/link.ts";
import { LinkSet } from "../links/link-set.ts";
import type { BpfMap } from "../maps/map.ts";
import type { Program } from "../programs/program.ts";
import { loadObjectBTF } from "./load-btf.ts";
import { createMaps, fillMapSlots } from "./load-maps.ts";
import { fillProgramArrays, loadPrograms, selectPrograms } from "./load-programs.ts";
import { bindVariables } from "./load-variables.ts";
import { type CollectionOptions, defaultKernelBTF } from "./options.ts";
import { Resources } from "./resources.ts";
import type { Variable } from "./variables.ts";

export type { CollectionOptions } from "./options.ts";

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
    this.maps = recordOf(res.maps) as Record<M, BpfMap>;
    this.programs = recordOf(res.programs) as Record<P, Program>;
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
      const objectName = opts.objectName ?? "";
      const btf = loadObjectBTF(spec, objectName, res);
      createMaps(spec, objectName, opts, btf, res);
      fillMapSlots(spec, res);
      const programs = selectPrograms(spec, opts.programs);
      const kernel = opts.kernelBTF ?? defaultKernelBTF;
      const core = loadPrograms(spec, programs, opts, kernel, btf, res);
      fillProgramArrays(spec, opts.programs !== undefined, res);
      const variables = bindVariables(spec, res);
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
    return named("map", this.maps as Record<string, BpfMap>, name);
  }

  /**
   * The program named `name`.
   *
   * @throws Error listing the collection's programs when there is none by that name
   */
  program(name: string): Program {
    return named("program", this.programs as Record<string, Program>, name);
  }

  /**
   * The variable named `name`.
   * @throws Error listing the collection's variables when there is none by that name
   */
  variable(name: string): Variable {
    return named("variable", this.variables as Record<string, Variable>, name);
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

/** A Map's entries as a plain object (a loop: Object.fromEntries measured slower here). */
function recordOf<T>(m: ReadonlyMap<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of m) out[k] = v;
  return out;
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
