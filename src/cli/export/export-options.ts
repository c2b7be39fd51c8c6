/**
 * `tsbpf export` options and sources, parsed with node's `util.parseArgs`: long
 * options only (the global `-j`/`-p`/`-d`/`-f`/`-V` keep their meaning), per-map
 * choices as `MAP=...` where MAP is the map's name as `tsbpf map show` prints it, and
 * sources in bpftool's MAP grammar plus bare files:
 *
 * ```
 * SOURCE := { id MAP_ID | pinned FILE | name MAP_NAME | FILE }
 * FILE   := a pinned map on bpffs, or an ELF object (loaded, attached, its maps exported)
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Field } from "../../hist/index.ts";
import type { SlotScale } from "../../metrics/index.ts";
import { parseU32 } from "../args.ts";
import { UsageError } from "../format/output.ts";

/** Where the maps come from. */
export type ExportSource =
  | { readonly kind: "id"; readonly id: number }
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "pinned"; readonly path: string }
  | { readonly kind: "file"; readonly path: string };

/** How one map's values are read when it is a histogram. */
export interface HistogramChoice {
  readonly scale: SlotScale;
  /** The slot's key member (BTF) or place in the key; default: found from BTF. */
  readonly slot?: string | Field;
  /** Multiplies bounds and sums (`unit=1e-6`: microseconds to seconds). */
  readonly unitScale?: number;
}

/** Everything `tsbpf export prometheus|otlp` was asked to do. */
export interface ExportOptions {
  /** `--listen HOST:PORT` (prometheus only; port 0 picks a free one). */
  readonly listen: { readonly host: string; readonly port: number };
  /** `--otlp URL`: push there too (the only output of `export otlp`). */
  readonly otlp?: string;
  /** `--interval SECONDS` between OTLP pushes (default 10). */
  readonly intervalSeconds: number;
  /** `--prefix P`: prepended to every metric name. */
  readonly prefix: string;
  /** `--counter MAP`: maps whose values only grow. */
  readonly counters: ReadonlySet<string>;
  /** `--histogram MAP=KIND[,slot=...][,unit=F]`. */
  readonly histograms: ReadonlyMap<string, HistogramChoice>;
  /** `--field MAP=MEMBER|OFFSET:SIZE`. */
  readonly fields: ReadonlyMap<string, string | Field>;
  /** `--metric MAP=NAME`: the metric's name instead of the map's. */
  readonly names: ReadonlyMap<string, string>;
  /** `--duration SECONDS`: stop after this long (default: at SIGINT or SIGTERM). */
  readonly durationSeconds?: number;
  readonly sources: readonly ExportSource[];
  readonly help: boolean;
}

/** The default `--listen`: the port registered for eBPF exporters is 9435. */
export const DEFAULT_LISTEN = { host: "127.0.0.1", port: 9435 } as const;

function positive(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d*\.?\d+(e-?\d+)?$/i.test(text) || !(n > 0) || !Number.isFinite(n)) {
    throw new UsageError(`${what} takes a number greater than 0, not '${text}'`);
  }
  return n;
}

function parseListen(text: string): { host: string; port: number } {
  // "[::1]:9435", "127.0.0.1:9435", ":9435" (all addresses)
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) {
    throw new UsageError(
      `--listen takes HOST:PORT (e.g. 127.0.0.1:9435 or [::1]:9435), not '${text}'`,
    );
  }
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** `OFFSET:SIZE` or `OFFSET` (4 bytes), or a member name. */
function parseField(text: string, what: string): string | Field {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) {
      throw new UsageError(`${what}: '${text}' is neither a member name nor OFFSET[:SIZE]`);
    }
    return text;
  }
  const size = Number(m[2] ?? 4);
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw new UsageError(`${what}: a field is 1, 2, 4 or 8 bytes, not ${size}`);
  }
  return { offset: Number(m[1]), size };
}

function splitPair(text: string, option: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0 || at === text.length - 1) {
    throw new UsageError(`${option} takes MAP=VALUE, not '${text}'`);
  }
  return [text.slice(0, at), text.slice(at + 1)];
}

/** `log2`, `log2-bcc`, `linear:MIN:STEP`, then `,slot=...`, `,unit=F`. */
function parseHistogram(text: string): [string, HistogramChoice] {
  const [map, spec] = splitPair(text, "--histogram");
  const [kind = "", ...opts] = spec.split(",");
  let scale: SlotScale;
  const lin = /^linear:(-?\d+):(\d+)$/.exec(kind);
  if (kind === "log2") scale = { kind: "log2", slots: "libbpf" };
  else if (kind === "log2-bcc") scale = { kind: "log2", slots: "bcc" };
  else if (lin && Number(lin[2]) > 0)
    scale = { kind: "linear", min: Number(lin[1]), step: Number(lin[2]) };
  else {
    throw new UsageError(
      `--histogram ${map}: '${kind}' is not a kind (log2, log2-bcc or linear:MIN:STEP)`,
    );
  }
  let choice: HistogramChoice = { scale };
  for (const o of opts) {
    const [k, v] = splitPair(o, `--histogram ${map}`);
    if (k === "slot") choice = { ...choice, slot: parseField(v, `--histogram ${map} slot`) };
    else if (k === "unit")
      choice = { ...choice, unitScale: positive(v, `--histogram ${map} unit`) };
    else throw new UsageError(`--histogram ${map}: unknown option '${k}' (slot, unit)`);
  }
  return [map, choice];
}

/** SOURCE words, bpftool's way: `id 7 name counts pinned /sys/fs/bpf/x obj.o`. */
function parseSources(words: readonly string[]): ExportSource[] {
  const out: ExportSource[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const next = (): string => {
      const v = words[++i];
      if (v === undefined) throw new UsageError(`'${w}' needs a value`);
      return v;
    };
    if (w === "id") {
      const text = next();
      const id = parseU32(text);
      if (id === undefined) throw new UsageError(`can't parse ${text} as ID`);
      out.push({ kind: "id", id });
    } else if (w === "name") out.push({ kind: "name", name: next() });
    else if (w === "pinned") out.push({ kind: "pinned", path: next() });
    else out.push({ kind: "file", path: w });
  }
  return out;
}

/**
 * Parses the words after `export prometheus` or `export otlp`.
 * @throws UsageError naming the option or word that is wrong
 */
export function parseExportOptions(
  words: readonly string[],
  command: "prometheus" | "otlp",
): ExportOptions {
  let v: ReturnType<typeof parse>["values"];
  let positionals: string[];
  const parse = (args: string[]) =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        listen: { type: "string" },
        otlp: { type: "string" },
        interval: { type: "string" },
        prefix: { type: "string" },
        counter: { type: "string", multiple: true },
        histogram: { type: "string", multiple: true },
        field: { type: "string", multiple: true },
        metric: { type: "string", multiple: true },
        duration: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  try {
    ({ values: v, positionals } = parse([...words]));
  } catch (e) {
    throw new UsageError(
      `export ${command}: ${(e as Error).message.replace(/\. To specify.*$/s, "")}`,
    );
  }
  if (command === "otlp" && v.listen !== undefined) {
    throw new UsageError("export otlp: --listen is for export prometheus");
  }
  const otlp = v.otlp;
  if (otlp !== undefined && !/^https?:\/\/[^/]/.test(otlp)) {
    throw new UsageError(`--otlp takes an http:// or https:// URL, not '${otlp}'`);
  }
  if (command === "otlp" && otlp === undefined && !v.help) {
    throw new UsageError("export otlp needs --otlp URL");
  }
  const prefix = v.prefix ?? "";
  if (!/^[a-zA-Z_:]?[a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new UsageError(`--prefix '${prefix}' is not the start of a metric name`);
  }
  const pairs = (list: string[] | undefined, option: string) =>
    (list ?? []).map((t) => splitPair(t, option));
  return {
    listen: v.listen === undefined ? DEFAULT_LISTEN : parseListen(v.listen),
    ...(otlp !== undefined && { otlp }),
    intervalSeconds: v.interval === undefined ? 10 : positive(v.interval, "--interval"),
    prefix,
    counters: new Set(v.counter ?? []),
    histograms: new Map((v.histogram ?? []).map(parseHistogram)),
    fields: new Map(pairs(v.field, "--field").map(([m, f]) => [m, parseField(f, `--field ${m}`)])),
    names: new Map(pairs(v.metric, "--metric")),
    ...(v.duration !== undefined && { durationSeconds: positive(v.duration, "--duration") }),
    sources: parseSources(positionals),
    help: v.help === true,
  };
}
