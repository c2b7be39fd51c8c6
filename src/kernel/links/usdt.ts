/**
 * USDT probes (`SEC("usdt/BINARY:PROVIDER:NAME")`, libbpf's `bpf_program__attach_usdt`):
 * a uprobe on every site of the probe in the binary, following the conventions of
 * libbpf's `usdt.bpf.h` so objects built with it run unchanged:
 *
 * - each distinct argument string gets a spec id, and `struct __bpf_usdt_spec` (the
 *   parsed arguments and the user's cookie) is written at that id in the object's
 *   `__bpf_usdt_specs` array;
 * - the uprobe's BPF cookie is the spec id (`bpf_get_attach_cookie()`); on kernels
 *   without BPF cookies (before 5.15) the site's address maps to the spec id in
 *   `__bpf_usdt_ip_to_spec_id` instead, which `usdt.bpf.h` looks up by `PT_REGS_IP`;
 * - a probe with a semaphore is attached with the uprobe's `ref_ctr_offset` (the
 *   semaphore's file offset), so the kernel increments the semaphore in every process
 *   that maps the binary while the uprobe exists (Linux >= 4.20). Where the uprobe PMU
 *   has no such field, or when asked, the semaphore of the one process traced is
 *   raised by writing its memory (/proc/PID/mem), as BCC does, and lowered on detach.
 *
 * The maps are found among the program's maps (its `map_ids`) by name; a program
 * that reads no argument (no `bpf_usdt_arg()`) uses neither, and none is written.
 *
 * @module
 */

import { closeSync, openSync, readFileSync, readSync, realpathSync, writeSync } from "node:fs";
import { type ElfFile, ET_DYN, type UsdtProbe, usdtProbes } from "../../elf/index.ts";
import { ProgType } from "../../uapi/index.ts";
import { haveBpfCookie } from "../features/helpers.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import { BpfMap } from "../maps/map.ts";
import type { Program } from "../programs/program.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType } from "./link-create.ts";
import { pmuFormatField } from "./perf-event.ts";
import { attachUprobe } from "./uprobe.ts";
import { resolveBinary } from "./uprobe-library.ts";
import { readBinaryElf } from "./uprobe-symbols.ts";
import { encodeUsdtSpec, USDT_SPEC } from "./usdt-spec.ts";

/** The name of libbpf's spec map in usdt.bpf.h. */
export const USDT_SPECS_MAP = "__bpf_usdt_specs";
/** The name of libbpf's IP-to-spec-id map in usdt.bpf.h. */
export const USDT_IP_MAP = "__bpf_usdt_ip_to_spec_id";

/** Options of {@link attachUsdt}. */
export interface UsdtOptions {
  /** Only this process (default: every process running the binary). */
  readonly pid?: number;
  /** What `bpf_usdt_cookie()` returns in the program (libbpf's `usdt_cookie`). */
  readonly cookie?: bigint;
  /**
   * Pass the spec id through `__bpf_usdt_ip_to_spec_id` rather than the BPF cookie.
   * Default: only when the kernel has no BPF cookies. An object loaded with
   * `hasBpfCookie: false` needs it.
   */
  readonly ipMap?: boolean;
  /**
   * How a probe's semaphore is raised while attached: `"ref-ctr"`, by the kernel
   * through the uprobe's ref_ctr_offset (every process, Linux >= 4.20); `"memory"`, by
   * writing process `pid`'s memory. Default: ref-ctr where the kernel has it, else
   * memory when a pid is given.
   */
  readonly semaphore?: "ref-ctr" | "memory";
  /** The maps to fill, when not found among the program's maps by name. */
  readonly maps?: { readonly specs?: BpfMap; readonly ipToSpecId?: BpfMap };
}

/** Spec ids in use, by the kernel id of the specs map they index (this process only). */
const specIdsInUse = new Map<number, Set<number>>();

/** True when the kernel name `kernelName` (at most 15 bytes) is map `full` cut short. */
function sameMapName(kernelName: string, full: string): boolean {
  return kernelName === full || (kernelName.length === 15 && full.startsWith(kernelName));
}

/** The program's maps named `specs` and `ipToSpecId` (opened by id; the caller closes them). */
function programUsdtMaps(prog: Program): { specs?: BpfMap; ipToSpecId?: BpfMap } {
  const found: { specs?: BpfMap; ipToSpecId?: BpfMap } = {};
  try {
    for (const id of prog.info().mapIds) {
      const m = BpfMap.fromId(id);
      if (!found.specs && sameMapName(m.name, USDT_SPECS_MAP)) found.specs = m;
      else if (!found.ipToSpecId && sameMapName(m.name, USDT_IP_MAP)) found.ipToSpecId = m;
      else m.close();
    }
  } catch (e) {
    found.specs?.close();
    found.ipToSpecId?.close();
    throw e;
  }
  return found;
}

/**
 * The address in process `pid` of the byte at `fileOffset` of the file at `path`
 * (a site or semaphore of a shared library or PIE executable), from /proc/PID/maps.
 */
function addressInProcess(pid: number, path: string, fileOffset: bigint): bigint {
  const real = realpathSync(path);
  for (const line of readFileSync(`/proc/${pid}/maps`, "utf8").split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+\s+(.*)$/.exec(line);
    if (!m || m[4] !== real) continue;
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    const off = BigInt(`0x${m[3]}`);
    if (fileOffset >= off && fileOffset < off + (end - start)) return start + fileOffset - off;
  }
  throw new Error(
    `${path} is not mapped in process ${pid} at file offset 0x${fileOffset.toString(16)}`,
  );
}

/**
 * Adds `delta` to the 16-bit semaphore at `address` in process `pid` (through
 * /proc/PID/mem, which root may write), as BCC sets semaphores on kernels without
 * uprobe reference counters. Not atomic with the process's own reads, which only test
 * it for non-zero.
 */
function addToSemaphore(pid: number, address: bigint, delta: 1 | -1): void {
  const fd = openSync(`/proc/${pid}/mem`, "r+");
  try {
    const b = Buffer.alloc(2);
    if (readSync(fd, b, 0, 2, address) !== 2) {
      throw new Error(`cannot read the semaphore at 0x${address.toString(16)} of process ${pid}`);
    }
    const v = b.readUInt16LE(0);
    b.writeUInt16LE(delta > 0 ? Math.min(0xffff, v + 1) : Math.max(0, v - 1), 0);
    writeSync(fd, b, 0, 2, Number(address));
  } finally {
    closeSync(fd);
  }
}

/** Whether the uprobe PMU can set semaphores itself (its `ref_ctr_offset` field). */
function kernelHasRefCtr(): boolean {
  return pmuFormatField("uprobe", "ref_ctr_offset") !== undefined;
}

/** A key of `__bpf_usdt_specs` (int) or a value of `__bpf_usdt_ip_to_spec_id` (u32). */
function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** A key of `__bpf_usdt_ip_to_spec_id` (long). */
function u64(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, n), true);
  return b;
}

/**
 * The probes `provider:name` of `path`.
 * @throws Error naming the binary and listing the probes it has when none matches
 */
export function findUsdtProbes(path: string, provider: string, name: string): UsdtProbe[] {
  return probesIn(readBinaryElf(path), path, provider, name);
}

function probesIn(elf: ElfFile, path: string, provider: string, name: string): UsdtProbe[] {
  const probes = usdtProbes(elf, { provider, name });
  if (probes.length > 0) return probes;
  const all = [...new Set(usdtProbes(elf).map((p) => `${p.provider}:${p.name}`))];
  throw new Error(
    `${path} has no USDT probe ${provider}:${name}${all.length ? ` (it has ${all.join(", ")})` : " (it has no .note.stapsdt probes)"}`,
  );
}

/**
 * Attaches `prog` (a kprobe-type program, as `SEC("usdt")` loads) to every site of
 * USDT probe `provider:name` in `binary` (a path, a library name or a program in
 * $PATH), the way libbpf's `bpf_program__attach_usdt` does. The one link returned
 * detaches every site and removes the entries written to the object's USDT maps.
 *
 * @throws Error naming the binary (and the probes it has) when it has no such probe;
 * {@link ELFError}/{@link UsdtArgError} for notes or arguments that cannot be read;
 * NotSupportedError when a probe has a semaphore and the kernel has no uprobe
 * `ref_ctr_offset`, or when a shared library's sites need the IP map without a pid;
 * SyscallError from perf_event_open (ESRCH: no such process).
 * @example
 * ```ts
 * using coll = Collection.load(spec); // SEC("usdt") int BPF_USDT(entry, char *file, char *func, int line)
 * using link = attachUsdt(coll.program("entry"), "python3", "python", "function__entry", { pid });
 * ```
 */
export function attachUsdt(
  prog: Program,
  binary: string,
  provider: string,
  name: string,
  opts: UsdtOptions = {},
): Link {
  const path = resolveBinary(binary);
  const what = `usdt ${path}:${provider}:${name}`;
  expectProgType(prog, [ProgType.KPROBE], what);
  const elf = readBinaryElf(path);
  const probes = probesIn(elf, path, provider, name);
  const useIpMap = opts.ipMap ?? !haveBpfCookie().available;
  const semaphoreBy =
    opts.semaphore ?? (kernelHasRefCtr() || opts.pid === undefined ? "ref-ctr" : "memory");
  if (semaphoreBy === "memory" && opts.pid === undefined) {
    throw new TypeError(`${what}: semaphores set by writing memory need a pid`);
  }
  // A shared library or PIE executable: its addresses move with where it is loaded.
  const relocatable = elf.header.type === ET_DYN;

  const found = opts.maps ? {} : programUsdtMaps(prog);
  const specs = opts.maps?.specs ?? found.specs;
  const ipToSpecId = opts.maps?.ipToSpecId ?? found.ipToSpecId;
  const owned = [found.specs, found.ipToSpecId].filter((m) => m !== undefined);

  const undo: (() => void)[] = [];
  const links: Link[] = [];
  const detach = () => {
    for (const l of links.splice(0).reverse()) l.close();
    for (const f of undo.splice(0).reverse()) {
      try {
        f();
      } catch {
        // A map entry that cannot be removed any more (the map is gone): nothing to undo.
      }
    }
    for (const m of owned) m.close();
  };
  try {
    if (specs && specs.valueSize !== USDT_SPEC.sizeof) {
      throw new Error(
        `${what}: map ${USDT_SPECS_MAP} has ${specs.valueSize}-byte values, not the ${USDT_SPEC.sizeof} of libbpf 1.1's struct __bpf_usdt_spec`,
      );
    }
    if (useIpMap && specs && !ipToSpecId) {
      throw new Error(
        `${what}: without BPF cookies the program needs map ${USDT_IP_MAP} (from bpf/usdt.bpf.h), and it has none`,
      );
    }
    // One spec id per distinct argument string, as libbpf shares specs between sites.
    const idOf = new Map<string, number>();
    const specMapId = specs?.info().id ?? -1;
    const inUse = specIdsInUse.get(specMapId) ?? new Set<number>();
    specIdsInUse.set(specMapId, inUse);
    const allocate = (args: string, probe: UsdtProbe): number => {
      const known = idOf.get(args);
      if (known !== undefined) return known;
      const max = specs?.maxEntries ?? 0x7fffffff;
      let id = 0;
      while (inUse.has(id)) id++;
      if (id >= max) {
        throw new Error(
          `${what}: ${USDT_SPECS_MAP} is full (${max} specs; raise BPF_USDT_MAX_SPEC_CNT)`,
        );
      }
      inUse.add(id);
      undo.push(() => inUse.delete(id));
      idOf.set(args, id);
      if (specs) {
        specs.update(u32(id), encodeUsdtSpec(probe.argSpecs, opts.cookie ?? 0n));
        // An array's slots cannot be deleted: zero it, as nothing then names it.
        undo.push(() => specs.update(u32(id), new Uint8Array(USDT_SPEC.sizeof)));
      }
      return id;
    };
    const raised = new Set<bigint>();
    for (const probe of probes) {
      const specId = allocate(probe.args, probe);
      if (semaphoreBy === "memory" && probe.semaphoreOffset !== 0n && opts.pid !== undefined) {
        const pid = opts.pid;
        const at = relocatable
          ? addressInProcess(pid, path, probe.semaphoreOffset)
          : probe.semaphoreAddress;
        if (!raised.has(at)) {
          raised.add(at);
          addToSemaphore(pid, at, 1);
          undo.push(() => addToSemaphore(pid, at, -1));
        }
      }
      if (useIpMap && ipToSpecId) {
        let ip = probe.address;
        if (relocatable) {
          if (opts.pid === undefined) {
            throw new NotSupportedError(
              `${what} without BPF cookies`,
              "the sites of a shared library or position-independent executable have no fixed address: give a pid (or use a kernel with BPF cookies, Linux >= 5.15)",
            );
          }
          ip = addressInProcess(opts.pid, path, probe.fileOffset);
        }
        ipToSpecId.update(u64(ip), u32(specId));
        undo.push(() => ipToSpecId.delete(u64(ip)));
      }
      links.push(
        attachUprobe(prog, path, undefined, {
          offset: probe.fileOffset,
          ...(opts.pid !== undefined && { pid: opts.pid }),
          ...(semaphoreBy === "ref-ctr" &&
            probe.semaphoreOffset !== 0n && { refCtrOffset: probe.semaphoreOffset }),
          ...(!useIpMap && { cookie: BigInt(specId) }),
        }),
      );
    }
  } catch (e) {
    detach();
    throw e;
  }
  return newLink({
    cleanup: detach,
    description: `${what} (${links.length} site${links.length === 1 ? "" : "s"})`,
    noLinkReason: `a USDT attachment is one uprobe link per site (${links.length} here), not one bpf_link`,
  });
}
