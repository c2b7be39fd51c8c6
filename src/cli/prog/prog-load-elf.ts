/**
 * `prog load` and `prog loadall` for ELF objects, with bpftool's semantics
 * (load_with_options in bpftool 7.1):
 *
 * - every program of the object is loaded (types from their SEC() names, or all of
 *   them the `type` given), with the object's maps, global data, BTF and CO-RE;
 * - `prog load OBJ PATH` pins the first program at PATH; `prog loadall OBJ DIR` pins
 *   every program under DIR by its name (DIR is created on bpffs);
 * - `map {idx IDX | name NAME} MAP` uses an existing map instead of creating the
 *   object's map at that index (libbpf's map order) or of that name;
 * - `pinmaps MAP_DIR` pins every map under MAP_DIR by libbpf's name (global-data maps as
 *   `OBJ_bss`: dots become underscores);
 * - `autoattach` attaches each program where its SEC() says and pins the link instead
 *   of the program; a program that cannot be attached that way is pinned itself, with
 *   a note (bpftool's "does not support autoattach, falling back to pinning").
 *
 * Whatever fails, nothing this command pinned stays pinned and every descriptor is
 * closed.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadCollectionSpec } from "../../elf/index.ts";
import { Collection } from "../../kernel/collection/collection.ts";
import { internalMapName } from "../../kernel/collection/load-maps.ts";
import { objectNameOf } from "../../kernel/collection/load-spec.ts";
import { attachProgram } from "../../kernel/links/attach-program.ts";
import type { Link } from "../../kernel/links/link.ts";
import { BpfMap } from "../../kernel/maps/map.ts";
import { DEFAULT_BPFFS, ensureBpffs, isOnBpffs, pinObject } from "../../kernel/objects/pin.ts";
import { VerifierError } from "../../kernel/programs/verifier-error.ts";
import type { Fd } from "../../kernel/sys/index.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import type { CollectionSpec } from "../../spec/collection-spec.ts";
import { isGlobalDataName } from "../../spec/collection-spec.ts";
import type { ProgramSpec } from "../../spec/program-spec.ts";
import { LogLevel, ProgType } from "../../uapi/index.ts";
import { type Args, parseU32 } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, exitForErrno } from "../format/output.ts";
import { pinAt } from "../objects/pin-path.ts";
import { closeAll, errnoOf, openMap, reason } from "../objects/selectors.ts";
import { type ProgTypeChoice, progTypeByName } from "./prog-type-names.ts";

/** An existing map standing in for one of the object's (`map idx IDX MAP`, `map name NAME MAP`). */
export interface MapReuse {
  /** The map's index in the object (libbpf's order), when given by index. */
  readonly idx?: number;
  /** The map's name, when given by name. */
  readonly name?: string;
  /** The existing map. */
  readonly fd: Fd;
}

/** The words after `prog load OBJ PATH` / `prog loadall OBJ DIR`. */
export interface LoadArgs {
  /** `type TYPE`: the type of every program. */
  readonly type?: ProgTypeChoice;
  /** `map ...` clauses, in order (their descriptors are owned: close them). */
  readonly maps: readonly MapReuse[];
  /** `pinmaps MAP_DIR`. */
  readonly pinmaps?: string;
  /** `autoattach`. */
  readonly autoattach: boolean;
}

/**
 * Parses `[type TYPE] [map {idx IDX | name NAME} MAP]... [dev NAME] [pinmaps MAP_DIR]
 * [autoattach]` with bpftool's messages. On an error every map opened so far is closed.
 */
export function parseLoadArgs(args: Args): LoadArgs {
  let type: ProgTypeChoice | undefined;
  const maps: MapReuse[] = [];
  let pinmaps: string | undefined;
  let autoattach = false;
  try {
    while (args.count > 0) {
      if (args.is("type")) {
        args.skip();
        if (type) throw new CliError("program type already specified");
        args.require(1);
        const name = args.next();
        type = progTypeByName(name);
        if (!type) throw new CliError(`failed to guess program type from ELF section '${name}'`);
      } else if (args.is("map")) {
        args.skip();
        args.require(4);
        let idx: number | undefined;
        let name: string | undefined;
        if (args.is("idx")) {
          args.skip();
          const w = args.next();
          idx = parseU32(w);
          if (idx === undefined) throw new CliError(`can't parse ${w} as IDX`);
        } else if (args.is("name")) {
          args.skip();
          name = args.next();
        } else {
          throw new CliError(`expected 'idx' or 'name', got: '${args.peek()}'?`);
        }
        const fd = openMap(args);
        maps.push({ ...(idx !== undefined && { idx }), ...(name !== undefined && { name }), fd });
      } else if (args.is("dev")) {
        args.skip();
        args.require(1);
        throw new CliError(
          `offload device '${args.peek()}': tsbpf does not load programs for offload devices`,
        );
      } else if (args.is("pinmaps")) {
        args.skip();
        args.require(1);
        pinmaps = args.next();
      } else if (args.is("autoattach")) {
        args.skip();
        autoattach = true;
      } else {
        throw new CliError(
          `expected no more arguments, 'type', 'map' or 'dev', got: '${args.peek()}'?`,
        );
      }
    }
  } catch (e) {
    closeAll(maps.map((m) => m.fd));
    throw e;
  }
  return {
    ...(type && { type }),
    maps,
    ...(pinmaps !== undefined && { pinmaps }),
    autoattach,
  };
}

/** libbpf's `bpf_map__name`: global-data maps carry the object's name. */
export function libbpfMapName(objectName: string, specName: string): string {
  return isGlobalDataName(specName) ? internalMapName(objectName, specName) : specName;
}

/** The programs of `spec` with `type` applied (or their own, which must be known). */
function typedPrograms(spec: CollectionSpec, type: ProgTypeChoice | undefined): CollectionSpec {
  const programs: Record<string, ProgramSpec> = {};
  for (const p of Object.values(spec.programs)) {
    if (type) {
      const { expectedAttachType: _e, ...rest } = p;
      programs[p.name] = {
        ...rest,
        type: type.type,
        ...(type.expectedAttachType !== undefined && {
          expectedAttachType: type.expectedAttachType,
        }),
      };
    } else {
      if (p.type === ProgType.UNSPEC) {
        throw new CliError(
          `failed to guess program type from ELF section '${p.section ?? p.name}' (program ${p.name}): give one with 'type TYPE'`,
        );
      }
      programs[p.name] = p;
    }
  }
  return { ...spec, programs };
}

/** The object's map names (spec names) that each `map` clause replaces, checked as bpftool does. */
function replacementsFor(
  spec: CollectionSpec,
  objectName: string,
  reuse: readonly MapReuse[],
): Map<string, Fd> {
  const names = Object.keys(spec.maps);
  const chosen = new Map<number, Fd>();
  for (const r of reuse) {
    let idx = r.idx;
    if (r.name !== undefined) {
      idx = names.findIndex((n) => n === r.name || libbpfMapName(objectName, n) === r.name);
      if (idx < 0) throw new CliError(`unable to find map '${r.name}'`);
    }
    if (idx === undefined) continue;
    if (chosen.has(idx))
      throw new CliError(`replacement for map idx ${idx} specified more than once`);
    if (idx >= names.length) throw new CliError(`map idx '${idx}' not used`);
    chosen.set(idx, r.fd);
  }
  return new Map([...chosen].map(([idx, fd]) => [names[idx]!, fd]));
}

/**
 * Makes `dir` a directory on bpffs: creates it (its parent must be on bpffs, or an empty
 * directory tsbpf mounts bpffs on, as `pinAt` does), or mounts bpffs on it when it
 * exists empty elsewhere. Returns true when it created the directory.
 */
function ensurePinDir(dir: string): boolean {
  if (existsSync(dir)) {
    if (isOnBpffs(dir)) return false;
    if (readdirSync(dir).length > 0) {
      throw new CliError(
        `can't pin under ${dir}: it is not on a BPF file system and is not empty ` +
          `(mount one with \`mount -t bpf bpf DIR\`, or pin under ${DEFAULT_BPFFS})`,
      );
    }
    try {
      ensureBpffs(dir);
    } catch (e) {
      throw new CliError(`can't mount BPF file system on ${dir}: ${reason(e)}`);
    }
    return false;
  }
  const parent = dirname(dir);
  if (!isOnBpffs(parent)) {
    let empty: boolean;
    try {
      empty = readdirSync(parent).length === 0;
    } catch (e) {
      throw new CliError(`can't pin under ${dir}: ${parent}: ${reason(e)}`);
    }
    if (!empty) {
      throw new CliError(
        `can't pin under ${dir}: ${parent} is not on a BPF file system and is not empty ` +
          `(mount one with \`mount -t bpf bpf DIR\`, or pin under ${DEFAULT_BPFFS})`,
      );
    }
    try {
      ensureBpffs(parent);
    } catch (e) {
      throw new CliError(`can't mount BPF file system on ${parent}: ${reason(e)}`);
    }
  }
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    throw new CliError(`can't create ${dir}: ${reason(e)}`);
  }
  return true;
}

/** What one load pinned, to undo on failure. */
class Pins {
  readonly paths: string[] = [];
  readonly dirs: string[] = [];

  pin(fd: number, path: string, what: string): void {
    try {
      pinObject(fd, path);
    } catch (e) {
      throw new CliError(
        `failed to pin ${what} at ${path}: ${reason(e)}`,
        exitForErrno(errnoOf(e)),
      );
    }
    this.paths.push(path);
  }

  undo(): void {
    for (const p of this.paths.reverse()) {
      try {
        unlinkSync(p);
      } catch {}
    }
    for (const d of this.dirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {}
    }
  }
}

/** One `prog load` / `prog loadall` of an ELF object. */
export interface ElfLoad extends LoadArgs {
  /** The object file. */
  readonly file: string;
  /** PATH (load) or DIR (loadall). */
  readonly path: string;
  /** `prog load`: the first program only is pinned (at `path`). */
  readonly firstOnly: boolean;
}

/**
 * Loads an ELF object and pins (or attaches and pins) as {@link ElfLoad} says. The
 * `map` descriptors in `req.maps` are closed before it returns.
 *
 * @throws CliError with bpftool's wording where it has one, naming what failed.
 */
export function loadElfObject(ctx: Context, req: ElfLoad): void {
  const links: Link[] = [];
  const borrowed: BpfMap[] = [];
  let coll: Collection | undefined;
  const pins = new Pins();
  try {
    let spec: CollectionSpec;
    try {
      spec = loadCollectionSpec(readInputFile(req.file, MAX_OBJECT_BYTES, "BPF object"));
    } catch (e) {
      throw new CliError(`failed to open object file ${req.file}: ${reason(e)}`);
    }
    spec = typedPrograms(spec, req.type);
    const programs = Object.values(spec.programs);
    if (req.firstOnly && programs.length === 0) {
      throw new CliError("object file doesn't contain any bpf program");
    }
    const objectName = objectNameOf(req.file);
    const mapReplacements: Record<string, BpfMap> = {};
    for (const [name, fd] of replacementsFor(spec, objectName, req.maps)) {
      const map = BpfMap.fromFd(fd.value);
      fd.release();
      borrowed.push(map);
      mapReplacements[name] = map;
    }

    try {
      coll = Collection.load(spec, {
        objectName,
        mapReplacements,
        ...(ctx.opts.debug && { logLevel: LogLevel.LEVEL1 | LogLevel.LEVEL2 | LogLevel.STATS }),
      });
    } catch (e) {
      if (e instanceof VerifierError) {
        if (!ctx.out.json) ctx.out.stderr(`${e.log.trimEnd()}\n`);
        throw new CliError(`failed to load object file: ${e.message.split("\n")[0]}`);
      }
      // The API's own first line names the object and the field (`create prog_array map
      // "jmp": Invalid argument (key 4, ...)`), where errno words alone say too little;
      // bpftool exits 255 for any failed object load.
      const detail = e instanceof Error ? e.message.split("\n")[0] : String(e);
      throw new CliError(`failed to load object file: ${detail}`);
    }
    if (ctx.opts.debug && !ctx.out.json) {
      for (const p of programs) {
        const log = coll.program(p.name).verifierLog;
        if (log) ctx.out.stderr(`${log.trimEnd()}\n`);
      }
    }

    // Programs (or their links).
    const pinProgram = (p: ProgramSpec, path: string, mount: boolean): void => {
      const prog = coll!.program(p.name);
      let fd = prog.fd;
      let what = `program ${p.name}`;
      if (req.autoattach) {
        let link: Link | undefined;
        try {
          link = attachProgram(prog, p);
        } catch (e) {
          ctx.out.info(
            `Program ${p.name} does not support autoattach, falling back to pinning (${reason(e)})`,
          );
        }
        if (link) {
          links.push(link);
          if (link.isBpfLink) {
            fd = link.fd;
            what = `link of program ${p.name}`;
          } else {
            ctx.out.info(
              `Program ${p.name} is attached without a bpf_link (${link.description}), which cannot be pinned; pinning the program instead, unattached`,
            );
          }
        }
      }
      if (mount) {
        pinAt(fd, path);
        pins.paths.push(path);
      } else {
        pins.pin(fd, path, what);
      }
    };
    if (req.firstOnly) {
      pinProgram(programs[0]!, req.path, true);
    } else {
      if (ensurePinDir(req.path)) pins.dirs.push(req.path);
      for (const p of programs) pinProgram(p, join(req.path, p.name), false);
    }

    // Maps.
    if (req.pinmaps !== undefined) {
      if (ensurePinDir(req.pinmaps)) pins.dirs.push(req.pinmaps);
      for (const m of Object.values(spec.maps)) {
        const name = libbpfMapName(objectName, m.name);
        // bpffs refuses names with dots: libbpf's sanitize_pin_path.
        const path = join(req.pinmaps, name.replace(/\./g, "_"));
        if (m.pinning === "byName") {
          const at = join(DEFAULT_BPFFS, name);
          if (at !== path) {
            throw new CliError(
              `failed to pin all maps: map '${name}' is pinned by name at ${at} (LIBBPF_PIN_BY_NAME), not under ${req.pinmaps}`,
            );
          }
          continue;
        }
        pins.pin(coll.map(m.name).fd, path, `map ${name}`);
      }
    }
  } catch (e) {
    pins.undo();
    throw e;
  } finally {
    for (const l of links) l.close();
    coll?.close();
    for (const m of borrowed) m.close();
    closeAll(req.maps.map((m) => m.fd).filter((fd) => !fd.closed));
  }
  if (ctx.out.json) ctx.out.value(null);
}
