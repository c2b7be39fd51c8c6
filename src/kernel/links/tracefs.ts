/**
 * tracefs: where the kernel lists its trace events (`events/GROUP/NAME/id`, the number
 * perf_event_open wants for a tracepoint) and where kprobe and uprobe events are
 * created the legacy way (`kprobe_events`, `uprobe_events`) on kernels without the
 * kprobe/uprobe PMUs.
 *
 * tracefs lives at /sys/kernel/tracing (Linux >= 4.1) or under debugfs at
 * /sys/kernel/debug/tracing; as root, {@link tracefsDir} mounts it when neither is there.
 *
 * @module
 */

import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { NotSupportedError } from "../features/not-supported-error.ts";
import { mountFs, SyscallError } from "../sys/index.ts";

/** Where tracefs is mounted on current kernels. */
export const TRACEFS = "/sys/kernel/tracing";
/** Where it appears under debugfs (older systems). */
export const DEBUGFS_TRACING = "/sys/kernel/debug/tracing";

let cached: string | undefined;

/**
 * The tracefs directory: /sys/kernel/tracing, else /sys/kernel/debug/tracing; when
 * neither holds tracefs, mounts tracefs at /sys/kernel/tracing (needs root).
 *
 * @throws NotSupportedError when tracefs is not there and cannot be mounted.
 */
export function tracefsDir(): string {
  if (cached && existsSync(`${cached}/events`)) return cached;
  for (const dir of [TRACEFS, DEBUGFS_TRACING]) {
    if (existsSync(`${dir}/events`)) {
      cached = dir;
      return dir;
    }
  }
  const errno = existsSync(TRACEFS) ? mountFs("nodev", TRACEFS, "tracefs") : 2;
  if (errno === 0 && existsSync(`${TRACEFS}/events`)) {
    cached = TRACEFS;
    return TRACEFS;
  }
  throw new NotSupportedError(
    "tracefs",
    `no tracefs at ${TRACEFS} or ${DEBUGFS_TRACING}, and mounting one at ${TRACEFS} failed` +
      (errno ? ` (${new SyscallError(errno, "mount").message.replace(/^mount: /, "")})` : "") +
      "; mount it with `mount -t tracefs nodev /sys/kernel/tracing` as root",
    errno || undefined,
  );
}

/**
 * The id of trace event `group`/`name` (e.g. "syscalls", "sys_enter_openat"), from
 * tracefs `events/GROUP/NAME/id`.
 *
 * @throws Error naming the event and the file when there is no such event;
 * NotSupportedError when tracefs is unavailable.
 */
export function tracepointId(group: string, name: string): number {
  if (!group || !name || group.includes("/") || name.includes("/") || group.includes("..")) {
    throw new Error(`invalid tracepoint "${group}/${name}": expected GROUP and NAME without "/"`);
  }
  const dir = tracefsDir();
  const path = `${dir}/events/${group}/${name}/id`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      const why = existsSync(`${dir}/events/${group}`)
        ? `${dir}/events/${group} has no event ${name}`
        : `${dir}/events has no group ${group}`;
      throw new Error(`no tracepoint ${group}:${name}: ${why}`);
    }
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  const id = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(id)) throw new Error(`${path} does not hold a number: "${text.trim()}"`);
  return id;
}

/** True when tracefs (mounted or mountable) has the file `name` (e.g. "kprobe_events"). */
export function tracefsHas(name: string): boolean {
  try {
    return existsSync(`${tracefsDir()}/${name}`);
  } catch {
    return false;
  }
}

let eventCounter = 0;

/** A kprobe or uprobe event created through tracefs; `remove()` deletes it again. */
export interface ProbeEvent {
  /** The event's group ("kprobes" or "uprobes"). */
  readonly group: string;
  /** Its unique name (`tsbpf_PID_N`). */
  readonly name: string;
  /** The tracepoint id of the new event. */
  readonly id: number;
  /** Deletes the event (`-:group/name`); errors are ignored (it may be gone already). */
  remove(): void;
}

/**
 * Creates a legacy probe event by writing to tracefs `kprobe_events` or
 * `uprobe_events`: `p:GROUP/NAME TARGET` (or `r:` for a return probe), as libbpf does
 * on kernels without the kprobe/uprobe PMU. `target` is `func+off` for kprobes,
 * `/path:0xoffset` for uprobes.
 *
 * @throws SyscallError naming the file when the kernel refuses the definition.
 */
export function addProbeEvent(
  kind: "kprobe" | "uprobe",
  retprobe: boolean,
  target: string,
): ProbeEvent {
  const dir = tracefsDir();
  const file = `${dir}/${kind}_events`;
  const group = `${kind}s`;
  const name = `tsbpf_${process.pid}_${eventCounter++}`;
  const line = `${retprobe ? "r" : "p"}:${group}/${name} ${target}\n`;
  try {
    appendFileSync(file, line);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`cannot create ${kind} event "${line.trim()}" in ${file}: ${err.message}`, {
      cause: e,
    });
  }
  const remove = (): void => {
    try {
      appendFileSync(file, `-:${group}/${name}\n`);
    } catch {
      // already gone
    }
  };
  try {
    return { group, name, id: tracepointId(group, name), remove };
  } catch (e) {
    remove();
    throw e;
  }
}
