/**
 * The maps `tsbpf export` serves: opened from their sources (ids, names, pins, or an
 * ELF object loaded and attached here), each with its BTF and the way its values are
 * read (counter, gauge or histogram), as one `collect()` that reads them all afresh.
 *
 * @module
 */

import { loadCollectionSpec } from "../../elf/index.ts";
import type { HistogramLayout } from "../../hist/index.ts";
import { Collection } from "../../kernel/collection/collection.ts";
import type { LinkSet } from "../../kernel/links/link-set.ts";
import { BpfMap } from "../../kernel/maps/map.ts";
import { isOnBpffs } from "../../kernel/objects/pin.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import {
  histogramMetrics,
  type MapTypes,
  type MetricFamily,
  mapMetrics,
  renderPrometheus,
} from "../../metrics/index.ts";
import { describeMapType } from "../../spec/index.ts";
import { MapType } from "../../uapi/index.ts";
import { Args } from "../args.ts";
import { mapBtf } from "../btf/btf-value.ts";
import { CliError } from "../format/output.ts";
import { closeAll, openById, openMaps, openPinnedOfKind, reason } from "../objects/selectors.ts";
import type { ExportOptions, ExportSource } from "./export-options.ts";

/** Map types whose entries are keys and numbers: what can become metrics. */
const VALUE_MAP_TYPES: ReadonlySet<number> = new Set([
  MapType.HASH,
  MapType.ARRAY,
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.LRU_HASH,
  MapType.LRU_PERCPU_HASH,
  MapType.LPM_TRIE,
]);

/** One exported map: how to read it, and its BTF when it has one. */
interface ExportedMap {
  readonly map: BpfMap;
  readonly types: MapTypes | undefined;
}

/** The open maps (and any object loaded for them); `close()` releases everything. */
export class ExportSet implements Disposable {
  readonly #maps: ExportedMap[];
  readonly #opts: ExportOptions;
  readonly #owned: { close(): void }[];

  private constructor(maps: ExportedMap[], opts: ExportOptions, owned: { close(): void }[]) {
    this.#maps = maps;
    this.#opts = opts;
    this.#owned = owned;
  }

  /**
   * Opens every source's maps and checks each can be read the way it was asked to be
   * (by reading it once).
   * @throws CliError naming the source or map that cannot be exported
   */
  static open(opts: ExportOptions): ExportSet {
    const owned: { close(): void }[] = [];
    const opened: BpfMap[] = [];
    try {
      for (const source of opts.sources) opened.push(...openSource(source, owned));
      if (opened.length === 0) throw new CliError("no maps to export: name at least one SOURCE");
      const maps: ExportedMap[] = [];
      for (const map of opened) {
        if (!VALUE_MAP_TYPES.has(map.type)) {
          throw new CliError(
            `map "${map.name}" is a ${describeMapType(map.type)} map: only hash and array maps hold values to export`,
          );
        }
        maps.push({ map, types: mapBtf(map.info()) });
      }
      const names = maps.map((m) => m.map.name);
      for (const name of [
        ...opts.counters,
        ...opts.histograms.keys(),
        ...opts.fields.keys(),
        ...opts.names.keys(),
      ]) {
        if (!names.includes(name)) {
          throw new CliError(`no exported map is named "${name}" (maps: ${names.join(", ")})`);
        }
      }
      const set = new ExportSet(maps, opts, owned);
      // Fail now, not at the first scrape: every map read, the names rendered once.
      try {
        renderPrometheus(set.collect());
      } catch (e) {
        throw e instanceof CliError
          ? e
          : new CliError(`${reason(e)} (rename with --metric or --prefix)`);
      }
      return set;
    } catch (e) {
      for (const m of opened) m.close();
      for (const o of owned.reverse()) o.close();
      throw e;
    }
  }

  /** The names of the exported maps. */
  get mapNames(): string[] {
    return this.#maps.map((m) => m.map.name);
  }

  /**
   * Every map's metrics, read now.
   * @throws CliError naming the map that could not be read or rendered
   */
  collect(): MetricFamily[] {
    const out: MetricFamily[] = [];
    for (const { map, types } of this.#maps) {
      const o = this.#opts;
      const name = `${o.prefix}${o.names.get(map.name) ?? map.name}`;
      const hist = o.histograms.get(map.name);
      try {
        if (hist) {
          const slot = hist.slot;
          const layout =
            slot === undefined
              ? undefined
              : typeof slot === "string"
                ? slotMemberLayout(map.name, types, slot)
                : { kind: "slot-per-entry" as const, slot };
          out.push(
            histogramMetrics(map, {
              name,
              types,
              scale: hist.scale,
              ...(layout && { layout }),
              ...(hist.unitScale !== undefined && { unitScale: hist.unitScale }),
            }),
          );
        } else {
          const field = o.fields.get(map.name);
          out.push(
            ...mapMetrics(map, {
              name,
              types,
              type: o.counters.has(map.name) ? "counter" : "gauge",
              ...(field !== undefined && { field }),
            }),
          );
        }
      } catch (e) {
        throw new CliError(`map "${map.name}": ${reason(e)}`);
      }
    }
    return out;
  }

  /** Closes the maps, then detaches and closes any object loaded for them. */
  close(): void {
    for (const m of this.#maps) m.map.close();
    for (const o of this.#owned.reverse()) o.close();
    this.#maps.length = 0;
    this.#owned.length = 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The layout of a histogram whose slot is the key member `member`. */
function slotMemberLayout(
  map: string,
  types: MapTypes | undefined,
  member: string,
): HistogramLayout {
  const key = types?.keyTypeId ? types.btf.resolve(types.keyTypeId) : undefined;
  if (key?.kind !== "STRUCT") {
    throw new CliError(`--histogram ${map}: slot=${member} needs a struct key with BTF`);
  }
  const m = key.members.find((x) => x.name === member);
  if (!m) {
    const names = key.members.map((x) => x.name).join(", ");
    throw new CliError(`--histogram ${map}: the key has no member "${member}" (it has: ${names})`);
  }
  const size = types?.btf.sizeof(m.type);
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw new CliError(`--histogram ${map}: member "${member}" is ${size} bytes, not an integer`);
  }
  return { kind: "slot-per-entry", slot: { offset: m.bitOffset >> 3, size } };
}

/** The maps a source names; an object's loaded collection and links join `owned`. */
function openSource(source: ExportSource, owned: { close(): void }[]): BpfMap[] {
  switch (source.kind) {
    case "id":
      return [BpfMap.fromFd(openById("map", source.id, "get map by id"))];
    case "name":
      return fromFds(openMaps(new Args(["name", source.name])));
    case "pinned":
      return [BpfMap.fromFd(openPinnedOfKind(source.path, "map"))];
    case "file":
      if (isOnBpffs(source.path)) return [BpfMap.fromFd(openPinnedOfKind(source.path, "map"))];
      return loadObject(source.path, owned);
  }
}

function fromFds(fds: ReturnType<typeof openMaps>): BpfMap[] {
  const out: BpfMap[] = [];
  try {
    for (const fd of fds) out.push(BpfMap.fromFd(fd));
  } catch (e) {
    for (const m of out) m.close();
    closeAll(fds.slice(out.length));
    throw e;
  }
  return out;
}

/**
 * Loads the ELF object at `path`, attaches its programs (what libbpf's skeleton would
 * attach) and returns fresh handles to its value maps other than its global-data
 * sections (`.bss`, `.data`, `.rodata`...).
 */
function loadObject(path: string, owned: { close(): void }[]): BpfMap[] {
  let coll: Collection;
  try {
    const spec = loadCollectionSpec(readInputFile(path, MAX_OBJECT_BYTES, "object"));
    coll = Collection.load(spec);
  } catch (e) {
    throw new CliError(`${path}: ${reason(e)}`);
  }
  owned.push(coll);
  let links: LinkSet;
  try {
    links = coll.attachAll();
  } catch (e) {
    throw new CliError(`${path}: attaching its programs: ${reason(e)}`);
  }
  owned.push(links);
  const maps: BpfMap[] = [];
  try {
    for (const [name, map] of Object.entries(coll.maps as Record<string, BpfMap>)) {
      if (name.startsWith(".") || !VALUE_MAP_TYPES.has(map.type)) continue;
      maps.push(BpfMap.fromId(map.info().id));
    }
  } catch (e) {
    for (const m of maps) m.close();
    throw new CliError(`${path}: opening its maps: ${reason(e)}`);
  }
  return maps;
}
