/**
 * Block device names for the block tools: the block tracepoints give a device as the
 * kernel's dev_t (major << 20 | minor, not the user-space encoding), and
 * /proc/diskstats lists `major minor name` for every disk and partition.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { UsageError } from "../format/output.ts";

/** The kernel's dev_t split: MINORBITS is 20. */
export function splitDev(dev: number): { major: number; minor: number } {
  return { major: dev >>> 20, minor: dev & 0xfffff };
}

/** The kernel's dev_t of `major:minor`. */
export function makeDev(major: number, minor: number): number {
  return ((major << 20) | minor) >>> 0;
}

/** Names by kernel dev_t, read from /proc/diskstats when first needed and on a miss. */
export class BlockDeviceNames {
  #names = new Map<number, string>();
  readonly #source: string;

  /** @param source the diskstats file (a test can point elsewhere) */
  constructor(source = "/proc/diskstats") {
    this.#source = source;
  }

  #reload(): void {
    let text = "";
    try {
      text = readFileSync(this.#source, "utf8");
    } catch {
      return; // no procfs: devices are shown as major,minor
    }
    for (const line of text.split("\n")) {
      const [major, minor, name] = line.trim().split(/\s+/);
      if (name && /^\d+$/.test(major ?? "") && /^\d+$/.test(minor ?? "")) {
        this.#names.set(makeDev(Number(major), Number(minor)), name);
      }
    }
  }

  /** The name of `dev` ("sda", "loop3"), or "major,minor" when it is not listed. */
  name(dev: number): string {
    let n = this.#names.get(dev);
    if (n === undefined) {
      this.#reload();
      n = this.#names.get(dev);
    }
    if (n !== undefined) return n;
    const { major, minor } = splitDev(dev);
    return `${major},${minor}`;
  }

  /** The kernel dev_t of the device called `name`, or undefined. */
  find(name: string): number | undefined {
    this.#reload();
    for (const [dev, n] of this.#names) if (n === name) return dev;
    return undefined;
  }

  /**
   * The kernel dev_t of `name`, for a `--disk NAME` filter.
   * @throws UsageError naming the tool and the disk when there is none by that name
   */
  require(name: string, tool: string): number {
    const dev = this.find(name);
    if (dev === undefined)
      throw new UsageError(`trace ${tool}: no disk '${name}' in /proc/diskstats`);
    return dev;
  }
}
