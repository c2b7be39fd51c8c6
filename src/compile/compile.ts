/**
 * `compile()`: BPF C source to an object at run time, as BCC compiles its programs,
 * but with clang and CO-RE: vmlinux.h from the running kernel's BTF, libbpf's headers,
 * and objects cached on disk so a program compiles once.
 *
 * The pipeline: find clang ({@link findClang}) -> vmlinux.h when the source includes
 * it ({@link vmlinuxHeader}) -> the command line -> the object cache
 * ({@link lookupObject}) -> clang in a temporary directory -> diagnostics or the
 * object -> {@link loadCollectionSpec}.
 *
 * @module
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import { loadCollectionSpec } from "../elf/load-collection-spec.ts";
import type { CollectionSpec } from "../spec/collection-spec.ts";
import { defaultCacheDir, sha256 } from "./cache-dir.ts";
import { type Diagnostic, parseDiagnostics } from "./diagnostics.ts";
import { CompileError } from "./errors.ts";
import { type ClangInfo, findClang } from "./find-clang.ts";
import { hostIncludes } from "./host-includes.ts";
import { lookupObject, parseDepFile, storeObject } from "./object-cache.ts";
import { runClang } from "./run-clang.ts";
import { KERNEL_BTF_PATH, vmlinuxHeader } from "./vmlinux-header.ts";

/** clang's BPF targets: `bpf` is the host's byte order, the others say which. */
export type CompileTarget = "bpf" | "bpfel" | "bpfeb";

/** Options of {@link compile} and {@link compileObject}. */
export interface CompileOptions {
  /**
   * The source's name in diagnostics, errors and debug info (a path such as
   * "examples/hello/hello.bpf.c"); default "<source>".
   */
  readonly name?: string;
  /** Extra include directories (`-I`), searched before the provided headers. */
  readonly includes?: readonly string[];
  /** Macros: `{ DEBUG: true, MAX: "64" }` is `-DDEBUG -DMAX=64`. */
  readonly defines?: Readonly<Record<string, string | true>>;
  /** clang's `-target`; default "bpf" (the host's byte order, what its kernel loads). */
  readonly target?: CompileTarget;
  /**
   * The clang to use (a path, or a name on PATH); default `$TSBPF_CLANG`, `$CLANG`,
   * then the newest `clang-N` (N >= 14) or `clang` on PATH.
   */
  readonly clang?: string;
  /** The cache directory; default `$XDG_CACHE_HOME/tsbpf` or `~/.cache/tsbpf`. */
  readonly cacheDir?: string;
  /** Use and fill the cache of objects (and of vmlinux.h); default true. */
  readonly cache?: boolean;
  /**
   * Provide `vmlinux.h`: true always, false never, a path: generated from that BTF
   * file instead of the running kernel's (/sys/kernel/btf/vmlinux). Default: when the
   * source has `#include "vmlinux.h"` (or `<vmlinux.h>`); set true when only a header
   * of yours includes it.
   */
  readonly vmlinux?: boolean | string;
  /** More clang arguments, after tsbpf's (`["-Wall", "-mcpu=v3"]`). */
  readonly cflags?: readonly string[];
}

/** An object {@link compileObject} built or found in the cache. */
export interface CompiledObject {
  /** The ELF object, as clang wrote it. */
  readonly bytes: Uint8Array;
  /** True when it came from the cache (clang did not run). */
  readonly cached: boolean;
  /** clang's warnings and notes (from the run that built it, for a cached object). */
  readonly diagnostics: readonly Diagnostic[];
  /** clang's stderr, the source named by the `name` option ("" when it said nothing). */
  readonly stderr: string;
  /** The clang that built it (or would have). */
  readonly clang: ClangInfo;
}

const TARGETS: readonly CompileTarget[] = ["bpf", "bpfel", "bpfeb"];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INCLUDES_VMLINUX = /^[ \t]*#[ \t]*include[ \t]*[<"]vmlinux\.h[>"]/m;
/** Bump when the command line or the cache layout changes meaning. */
const CACHE_FORMAT = 1;

/**
 * Compiles BPF C to a {@link CollectionSpec}, ready for `Collection.load` (tsbpf/kernel)
 * or `VirtualMachine.load` (tsbpf/vm).
 *
 * @example
 * ```ts
 * import { compile } from "tsbpf/compile";
 * const spec = await compile(`
 *   #include "vmlinux.h"
 *   #include <bpf/bpf_helpers.h>
 *   SEC("tracepoint/syscalls/sys_enter_openat")
 *   int hello(void *ctx) { bpf_printk("hello"); return 0; }
 *   char LICENSE[] SEC("license") = "GPL";
 * `);
 * ```
 * @throws {ClangNotFoundError} no clang >= 14 (the message names the package to install)
 * @throws {CompileError} clang rejected the source: `diagnostics` with file:line:column
 * @throws {VmlinuxError} the source includes vmlinux.h and the kernel has no BTF
 * @throws {TypeError} an option that is not valid (a define that is not an identifier...)
 */
export async function compile(
  source: string,
  options: CompileOptions = {},
): Promise<CollectionSpec> {
  return loadCollectionSpec((await compileObject(source, options)).bytes);
}

/**
 * {@link compile}, up to the object's bytes (what `tsbpf compile` writes), with clang's
 * warnings and whether the cache answered.
 *
 * @example
 * ```ts
 * const { bytes, cached } = await compileObject(readFileSync("x.bpf.c", "utf8"), { name: "x.bpf.c" });
 * writeFileSync("x.bpf.o", bytes);
 * ```
 * @throws as {@link compile}
 */
export async function compileObject(
  source: string,
  options: CompileOptions = {},
): Promise<CompiledObject> {
  checkOptions(source, options);
  const name = options.name ?? "<source>";
  // The file clang reads: the name's own when it is a plain file name (it ends up in
  // the debug info), else a neutral one; diagnostics name it `name` either way.
  const fileName = /^[\w.+-]+\.c$/.test(basename(name)) ? basename(name) : "source.bpf.c";
  const cacheDir = options.cache === false ? undefined : (options.cacheDir ?? defaultCacheDir());
  const clang = await findClang({
    ...(options.clang !== undefined && { clang: options.clang }),
    ...(cacheDir !== undefined && { cacheDir }),
  });
  const work = mkdtempSync(join(tmpdir(), "tsbpf-compile-"));
  try {
    const vmlinux = wantsVmlinux(source, options.vmlinux)
      ? vmlinuxHeader(
          typeof options.vmlinux === "string" ? resolve(options.vmlinux) : KERNEL_BTF_PATH,
          cacheDir ?? work,
        )
      : undefined;
    const args = compilerArgs(options, vmlinux?.dir);
    const key =
      cacheDir &&
      sha256(
        JSON.stringify([
          CACHE_FORMAT,
          clang.path,
          clang.banner,
          args,
          fileName,
          vmlinux?.btfHash ?? null,
          source,
        ]),
      );
    const rename = new Map([[fileName, name]]);
    if (cacheDir && key) {
      const hit = lookupObject(cacheDir, key);
      if (hit) {
        const { diagnostics, stderr } = parseDiagnostics(hit.stderr, rename);
        return { bytes: hit.bytes, cached: true, diagnostics, stderr, clang };
      }
    }

    writeFileSync(join(work, fileName), source);
    const command = [
      ...args,
      // No temporary path in the object: its debug info names the directory ".".
      `-fdebug-prefix-map=${work}=.`,
      "-MD",
      "-MF",
      "object.d",
      "-c",
      fileName,
      "-o",
      "object.o",
    ];
    const ran = await runClang(clang.path, command, work);
    const { diagnostics, stderr } = parseDiagnostics(ran.stderr, rename);
    if (ran.code !== 0) {
      throw new CompileError(name, diagnostics, stderr, ran.code, [clang.path, ...command]);
    }
    const bytes = new Uint8Array(readFileSync(join(work, "object.o")));
    if (cacheDir && key) {
      // Headers only: the source is in the key, vmlinux.h is named by its BTF's hash.
      const deps = parseDepFile(readFileSync(join(work, "object.d"), "utf8")).filter(
        (p) => isAbsolute(p) && !(vmlinux && p.startsWith(`${vmlinux.dir}/`)),
      );
      storeObject(cacheDir, key, bytes, deps, ran.stderr);
    }
    return { bytes, cached: false, diagnostics, stderr, clang };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** clang's arguments before the file names: tsbpf's, the host's, then the caller's. */
function compilerArgs(options: CompileOptions, vmlinuxDir: string | undefined): string[] {
  const host = hostIncludes();
  const defines = Object.entries(options.defines ?? {}).map(([k, v]) =>
    v === true ? `-D${k}` : `-D${k}=${v}`,
  );
  return [
    "-g",
    "-O2",
    "-target",
    options.target ?? "bpf",
    "-fno-color-diagnostics",
    ...host.defines,
    ...defines,
    // Relative directories are the caller's, not the temporary directory clang runs in.
    ...(options.includes ?? []).map((d) => `-I${resolve(d)}`),
    ...(vmlinuxDir ? [`-I${vmlinuxDir}`] : []),
    ...host.after.flatMap((d) => ["-idirafter", d]),
    ...(options.cflags ?? []),
  ];
}

function wantsVmlinux(source: string, option: boolean | string | undefined): boolean {
  return option === undefined ? INCLUDES_VMLINUX.test(source) : option !== false;
}

/** Rejects options clang would misread, naming the option and the value. */
function checkOptions(source: string, o: CompileOptions): void {
  const bad = (what: string) => {
    throw new TypeError(`compile: ${what}`);
  };
  if (typeof source !== "string") bad(`the source must be a string, not ${typeof source}`);
  if (o.target !== undefined && !TARGETS.includes(o.target)) {
    bad(`target "${o.target}" is not one of ${TARGETS.join(", ")}`);
  }
  for (const [k, v] of Object.entries(o.defines ?? {})) {
    if (!IDENTIFIER.test(k)) bad(`defines: "${k}" is not a C identifier`);
    if (v !== true && (typeof v !== "string" || /[\r\n]/.test(v))) {
      bad(`defines: the value of ${k} must be true or a one-line string`);
    }
  }
  for (const d of o.includes ?? []) {
    if (typeof d !== "string" || d === "") bad("includes: every entry must be a directory path");
  }
  for (const f of o.cflags ?? []) {
    if (typeof f !== "string") bad("cflags: every entry must be a string");
  }
  if (o.name !== undefined && (o.name === "" || /[\r\n]/.test(o.name))) {
    bad("name must be a non-empty, one-line string");
  }
}
