/**
 * Resolving a collection's externs against the running kernel, as libbpf does:
 * `__kconfig` values from the kernel's configuration (/proc/config.gz or
 * /boot/config-$(uname -r)) and libbpf's virtual `LINUX_*` values; typed `__ksym`
 * variables and kfuncs to vmlinux (or module) BTF ids, after checking their types are
 * compatible with the program's declarations; typeless `__ksym`s to their address in
 * /proc/kallsyms.
 *
 * @module
 */

import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";
import type { BTF } from "../../btf/btf.ts";
import { typesCompatible } from "../../btf/core-compat.ts";
import type { BTFType } from "../../btf/types.ts";
import type { CollectionSpec, ExternSpec } from "../../spec/collection-spec.ts";
import { runningKernelVersion } from "../system/kernel-version.ts";

/** A `__ksym` or kfunc resolved to the kernel. */
export type ResolvedKsym =
  | {
      /** A typed kernel variable or a kfunc: its BTF id (and module BTF, when not vmlinux). */
      readonly kind: "btf";
      readonly btfId: number;
      /** The module whose BTF holds it, or undefined for vmlinux. */
      readonly module?: string;
    }
  | { readonly kind: "address"; readonly address: bigint }
  | { readonly kind: "missing" };

/** Where the kernel's BTF comes from (so tests and callers can share parsed copies). */
export interface KernelBTFSource {
  vmlinux(): BTF;
  /** Module names with BTF, and a module's split BTF. */
  moduleNames(): readonly string[];
  module(name: string): BTF;
}

/** An extern the kernel cannot provide. */
export class ExternError extends Error {
  override readonly name = "ExternError";
  /** The extern's name. */
  readonly extern: string;
  constructor(extern: string, reason: string) {
    super(`extern '${extern}': ${reason}`);
    this.extern = extern;
  }
}

// ---- kconfig -----------------------------------------------------------------------

let configCache: { source: string; values: Map<string, string> } | null | undefined;

/** The kernel configuration with values as written (strings keep their quotes). */
export function readKernelConfigRaw(): { source: string; values: Map<string, string> } | undefined {
  if (configCache !== undefined) return configCache ?? undefined;
  configCache = null;
  for (const path of [`/boot/config-${release()}`, "/proc/config.gz"]) {
    let text: string;
    try {
      const raw = readFileSync(path);
      text = (path.endsWith(".gz") ? gunzipSync(raw) : raw).toString("latin1");
    } catch {
      continue;
    }
    const values = new Map<string, string>();
    for (const line of text.split("\n")) {
      const eq = line.indexOf("=");
      if (line.startsWith("CONFIG_") && eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
    }
    configCache = { source: path, values };
    break;
  }
  return configCache ?? undefined;
}

type KcfgType = "bool" | "tristate" | "char" | "int" | "chars" | "unknown";

function kcfgType(btf: BTF, typeId: number): { type: KcfgType; signed: boolean } {
  const t = btf.resolve(typeId);
  switch (t.kind) {
    case "INT":
      if (t.bool) return { type: t.size === 1 ? "bool" : "unknown", signed: false };
      if (t.size === 1) return { type: "char", signed: t.signed };
      if (![2, 4, 8].includes(t.size)) return { type: "unknown", signed: t.signed };
      return { type: "int", signed: t.signed };
    case "ENUM":
      return {
        type: t.name === "libbpf_tristate" && t.size === 4 ? "tristate" : "unknown",
        signed: false,
      };
    case "ARRAY": {
      const e = btf.resolve(t.type);
      return { type: e.kind === "INT" && e.size === 1 ? "chars" : "unknown", signed: false };
    }
    default:
      return { type: "unknown", signed: false };
  }
}

function writeNumber(
  out: DataView,
  off: number,
  size: number,
  v: bigint,
  signed: boolean,
  name: string,
): void {
  if (size < 8) {
    const bits = BigInt(size * 8);
    const fits = signed
      ? BigInt.asUintN(64, v + (1n << (bits - 1n))) < 1n << bits
      : BigInt.asUintN(64, v) >> bits === 0n;
    if (!fits) throw new ExternError(name, `value ${v} does not fit in ${size} bytes`);
  }
  switch (size) {
    case 1:
      out.setUint8(off, Number(BigInt.asUintN(8, v)));
      break;
    case 2:
      out.setUint16(off, Number(BigInt.asUintN(16, v)), true);
      break;
    case 4:
      out.setUint32(off, Number(BigInt.asUintN(32, v)), true);
      break;
    case 8:
      out.setBigUint64(off, BigInt.asUintN(64, v), true);
      break;
    default:
      throw new ExternError(name, `a ${size}-byte integer cannot hold a kconfig value`);
  }
}

/** Options for {@link kconfigValue}. */
export interface KconfigOptions {
  /** Extra `CONFIG_X=value` settings, taking precedence over the kernel's file. */
  readonly extra?: Readonly<Record<string, string>>;
  /**
   * Whether the kernel supports BPF cookies (LINUX_HAS_BPF_COOKIE), or a function
   * that finds out (called only when an object declares the extern); default true.
   */
  readonly hasBpfCookie?: boolean | (() => boolean);
}

/**
 * The initial value of the `.kconfig` map: every kconfig extern written at its offset.
 *
 * @throws {ExternError} for a strong extern the configuration lacks, or a value that
 * does not fit the extern's type
 */
export function kconfigValue(
  spec: CollectionSpec,
  valueSize: number,
  opts: KconfigOptions = {},
): Uint8Array {
  const out = new Uint8Array(valueSize);
  const view = new DataView(out.buffer);
  const btf = spec.btf;
  for (const e of spec.externs) {
    if (e.kind !== "kconfig") continue;
    const off = e.offset ?? 0;
    const size = e.size ?? 0;
    const { type, signed } = btf
      ? kcfgType(btf, e.typeId)
      : { type: "int" as KcfgType, signed: false };
    if (!e.name.startsWith("CONFIG_")) {
      let v: bigint;
      if (e.name === "LINUX_KERNEL_VERSION") v = BigInt(runningKernelVersion());
      else if (e.name === "LINUX_HAS_BPF_COOKIE") {
        const has = opts.hasBpfCookie;
        v = (typeof has === "function" ? has() : has) === false ? 0n : 1n;
      } else if (e.name === "LINUX_HAS_SYSCALL_WRAPPER") {
        v = process.arch === "x64" || process.arch === "arm64" ? 1n : 0n;
      } else if (e.name.startsWith("LINUX_") && e.weak) continue;
      else throw new ExternError(e.name, "is neither CONFIG_* nor one of libbpf's LINUX_* values");
      if (type !== "int" && type !== "char" && type !== "bool") {
        throw new ExternError(e.name, "must be declared as an integer");
      }
      writeNumber(view, off, size, v, signed, e.name);
      continue;
    }
    const raw = opts.extra?.[e.name] ?? readKernelConfigRaw()?.values.get(e.name);
    if (raw === undefined) {
      if (e.weak) continue;
      const src = readKernelConfigRaw();
      throw new ExternError(
        e.name,
        src
          ? `not set in ${src.source} (declare it __weak to default to 0)`
          : `no kernel configuration to read it from (/proc/config.gz, /boot/config-${release()})`,
      );
    }
    setKconfig(view, out, off, size, type, signed, e, raw);
  }
  return out;
}

function setKconfig(
  view: DataView,
  out: Uint8Array,
  off: number,
  size: number,
  type: KcfgType,
  signed: boolean,
  e: ExternSpec,
  raw: string,
): void {
  const c = raw[0];
  if (c === "y" || c === "n" || c === "m") {
    if (type === "bool") {
      if (c === "m")
        throw new ExternError(e.name, "is 'm': declare it as enum libbpf_tristate or char");
      out[off] = c === "y" ? 1 : 0;
    } else if (type === "tristate") view.setUint32(off, c === "y" ? 1 : c === "m" ? 2 : 0, true);
    else if (type === "char") out[off] = c.charCodeAt(0);
    else throw new ExternError(e.name, `value '${c}' needs a bool, tristate or char declaration`);
    return;
  }
  if (c === '"') {
    if (type !== "chars") throw new ExternError(e.name, `value ${raw} needs a char array`);
    const s = new TextEncoder().encode(raw.slice(1, -1));
    out.set(s.subarray(0, Math.max(0, size - 1)), off);
    return;
  }
  let v: bigint;
  try {
    v = BigInt(raw.trim());
  } catch {
    throw new ExternError(e.name, `value '${raw}' is not an integer`);
  }
  if (type !== "int" && type !== "char") {
    throw new ExternError(e.name, `value '${raw}' needs an integer declaration`);
  }
  writeNumber(view, off, size, v, signed, e.name);
}

// ---- ksyms and kfuncs --------------------------------------------------------------

let kallsymsCache: Map<string, string> | undefined;

/** Reads a /proc file in large chunks (procfs reports size 0, so readFileSync crawls). */
function readProcText(path: string): string {
  const fd = openSync(path, "r");
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const chunk = Buffer.allocUnsafe(1 << 20);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks).toString("latin1");
  } finally {
    closeSync(fd);
  }
}

/**
 * /proc/kallsyms as name → address as hex text (first occurrence), read once per
 * process. Addresses become bigints only when looked up ({@link kallsymAddress}):
 * 120,000 BigInt parses were most of a full scan.
 */
export function kallsyms(): Map<string, string> {
  kallsymsCache ??= parseKallsyms(readProcText("/proc/kallsyms"));
  return kallsymsCache;
}

/**
 * Parses /proc/kallsyms text ("ADDR TYPE NAME" or "ADDR TYPE NAME\t[MODULE]" per line)
 * into name → address hex, keeping each name's first occurrence. Linear in the text.
 */
export function parseKallsyms(text: string): Map<string, string> {
  const m = new Map<string, string>();
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf("\n", pos);
    if (nl < 0) nl = text.length;
    const sp1 = text.indexOf(" ", pos);
    const sp2 = text.indexOf(" ", sp1 + 1);
    if (sp1 > 0 && sp2 > 0 && sp2 < nl) {
      // A module symbol ends at a tab; search the line only: an indexOf over the whole
      // text ran to the far-away module section from every vmlinux line (quadratic:
      // 7.5 s for 120,000 symbols).
      const line = text.slice(sp2 + 1, nl);
      const tab = line.indexOf("\t");
      const name = tab < 0 ? line : line.slice(0, tab);
      if (!m.has(name)) m.set(name, text.slice(pos, sp1));
    }
    pos = nl + 1;
  }
  return m;
}

/** The address of kernel symbol `name` in /proc/kallsyms, or undefined. */
export function kallsymAddress(name: string): bigint | undefined {
  const hex = kallsyms().get(name);
  return hex === undefined ? undefined : BigInt(`0x${hex}`);
}

/** Finds a kernel VAR or FUNC named `name` in vmlinux, then in modules. */
function findKernelType(
  kernel: KernelBTFSource,
  kind: "VAR" | "FUNC",
  name: string,
): { btf: BTF; type: BTFType; module?: string } | undefined {
  const v = kernel.vmlinux();
  const t = v.findByName(kind, name);
  if (t) return { btf: v, type: t };
  for (const mod of kernel.moduleNames()) {
    const b = kernel.module(mod);
    const mt = b.findAllByName(name).find((x) => x.kind === kind && x.id >= b.firstId);
    if (mt) return { btf: b, type: mt, module: mod };
  }
  return undefined;
}

/**
 * Resolves a `__ksym` variable or kfunc. Typeless variables (`extern const void x
 * __ksym`) take their address from /proc/kallsyms; typed ones and kfuncs their BTF id.
 *
 * @throws {ExternError} when a strong extern is missing or its type does not match the
 * kernel's
 */
export function resolveKsym(
  spec: CollectionSpec,
  e: ExternSpec,
  kernel: KernelBTFSource,
): ResolvedKsym {
  const local = spec.btf;
  if (e.kind === "ksym") {
    const typeless =
      local === undefined || e.typeId === 0 || local.resolve(e.typeId).kind === "VOID";
    if (typeless) {
      const addr = kallsymAddress(e.name);
      if (addr === undefined || addr === 0n) {
        if (e.weak) return { kind: "missing" };
        throw new ExternError(
          e.name,
          addr === 0n
            ? "/proc/kallsyms shows address 0 (reading kernel addresses needs root)"
            : "not in /proc/kallsyms",
        );
      }
      return { kind: "address", address: addr };
    }
    const found = findKernelType(kernel, "VAR", e.name);
    if (found?.type.kind !== "VAR") {
      if (e.weak) return { kind: "missing" };
      throw new ExternError(e.name, "no kernel variable of that name in vmlinux or module BTF");
    }
    const localType = local.resolve(e.typeId).id;
    const targetType = found.btf.resolve(found.type.type).id;
    if (!typesCompatible(local, localType, found.btf, targetType)) {
      throw new ExternError(
        e.name,
        `its type does not match the kernel's (local [${localType}], kernel [${targetType}]${found.module ? ` in ${found.module}` : ""})`,
      );
    }
    return { kind: "btf", btfId: found.type.id, ...(found.module && { module: found.module }) };
  }
  const found = findKernelType(kernel, "FUNC", e.name);
  if (found?.type.kind !== "FUNC") {
    if (e.weak) return { kind: "missing" };
    throw new ExternError(e.name, "no kfunc of that name in vmlinux or module BTF");
  }
  if (local) {
    const lf = local.type(e.typeId);
    const localProto = lf.kind === "FUNC" ? lf.type : e.typeId;
    if (!typesCompatible(local, localProto, found.btf, found.type.type)) {
      throw new ExternError(
        e.name,
        `the program's prototype does not match the kernel's${found.module ? ` (in ${found.module})` : ""}`,
      );
    }
  }
  return { kind: "btf", btfId: found.type.id, ...(found.module && { module: found.module }) };
}
