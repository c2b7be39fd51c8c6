/**
 * What the exporter tests share: kernel maps to export (the tcp-connect-exporter
 * example's BTF-keyed counter map, loaded from its committed object, and a log2
 * histogram array) pinned in a bpffs directory of their own, and the exporter run as
 * a user runs it, its /metrics address read from its first line on stderr.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { BpfMap, Collection } from "../src/kernel/index.ts";
import { objectFdById, progIds } from "../src/kernel/objects/objects.ts";
import { ensureBpffs } from "../src/kernel/objects/pin.ts";
import { programInfoByFd } from "../src/kernel/programs/prog-info.ts";
import { MapType } from "../src/uapi/index.ts";

export const ROOT = resolve(import.meta.dirname, "..");

export const u32 = (...v: number[]) => new Uint8Array(new Uint32Array(v).buffer);
export const u64 = (v: bigint) => new Uint8Array(new BigUint64Array([v]).buffer);

/** Two pinned maps with known contents; `close()` unpins and closes them. */
export interface PinnedMaps {
  readonly dir: string;
  /** The example's `tcp_connects` (key: port, family, direction; BTF). */
  readonly connects: string;
  /** `lat`: 8 log2 slots of u64 counts in an array, no BTF. */
  readonly lat: string;
  close(): void;
}

/**
 * Pins `tcp_connects` holding {443, ipv4, outbound} = 12 and {8080, ipv6, inbound} = 3,
 * and `lat` holding slot 1 = 2, slot 3 = 5 (libbpf slots: 2..3 and 8..15).
 */
export function pinTestMaps(name: string): PinnedMaps {
  ensureBpffs();
  const dir = `/sys/fs/bpf/tsbpf-export-${name}-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  try {
    pinMaps(dir);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    connects: join(dir, "tcp_connects"),
    lat: join(dir, "lat"),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function pinMaps(dir: string): void {
  const spec = loadCollectionSpec(
    readFileSync(join(ROOT, "examples/tcp-connect-exporter/tcp-connect-exporter.bpf.o")),
  );
  const coll = Collection.load(spec);
  const lat = BpfMap.create({
    name: "lat",
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 8,
    maxEntries: 8,
  });
  try {
    const connects = coll.map("tcp_connects");
    connects.update(u32(443, 2, 0), u64(12n));
    connects.update(u32(8080, 10, 1), u64(3n));
    connects.pin(join(dir, "tcp_connects"));
    lat.update(u32(1), u64(2n));
    lat.update(u32(3), u64(5n));
    lat.pin(join(dir, "lat"));
  } finally {
    coll.close();
    lat.close();
  }
}

/** A `tsbpf export` process and the address it serves at. */
export interface ExporterProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:PORT/metrics` (prometheus), or undefined. */
  readonly url: string | undefined;
  stderr(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `tsbpf export ARGS...` and waits for its "Serving"/"Pushing" line. */
export async function startExporter(args: readonly string[]): Promise<ExporterProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "export", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  const ready = new Promise<string | undefined>((res, rej) => {
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
      const m = /at (http:\/\/\S+\/metrics)/.exec(err);
      if (m) res(m[1]);
      else if (/^Pushing /m.test(err)) res(undefined);
    });
    child.on("exit", (code) => rej(new Error(`exporter exited (${code}): ${err}`)));
  });
  const url = await ready;
  return {
    child,
    url,
    stderr: () => err,
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Polls `fn` until it returns a value, or fails after `ms`. */
export async function until<T>(
  what: string,
  ms: number,
  fn: () => Promise<T | undefined>,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      assert.fail(`${what} within ${ms} ms${last ? ` (last error: ${last})` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The example's program, as the kernel names it (15 characters). */
export const EXAMPLE_PROG = "count_establish";

/** Ids of the loaded programs named `name` (other tests' programs come and go). */
export function programsNamed(name: string): number[] {
  const out: number[] = [];
  for (const id of progIds()) {
    const fd = objectFdById("prog", id);
    if (!fd) continue;
    try {
      if (programInfoByFd(fd.value).name === name) out.push(id);
    } finally {
      fd.close();
    }
  }
  return out;
}
