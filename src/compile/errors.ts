/**
 * The errors of {@link compile}: no usable clang, clang rejected the source, no BTF to
 * generate vmlinux.h from. Each carries what a person needs to act on it.
 *
 * @module
 */

import { type Diagnostic, formatDiagnostic } from "./diagnostics.ts";

/** One clang that was considered and why it was not used. */
export interface ClangCandidate {
  /** The path or name tried (`/usr/bin/clang-13`, `$TSBPF_CLANG`...). */
  readonly candidate: string;
  /** Why it was passed over ("not found", "version 13.0.1 is older than 14"...). */
  readonly reason: string;
}

/** The Debian package that provides a clang tsbpf can use. */
export const CLANG_PACKAGE = "clang-19";

/**
 * No clang >= 14 was found (or the one asked for is missing or too old). The message
 * names every candidate tried and the package to install.
 *
 * @example
 * ```ts
 * try { await compile(src); } catch (e) {
 *   if (e instanceof ClangNotFoundError) console.error(e.message); // "... apt-get install clang-19 ..."
 * }
 * ```
 */
export class ClangNotFoundError extends Error {
  override readonly name = "ClangNotFoundError";
  /** Every clang considered, in order, with the reason it was not used. */
  readonly tried: readonly ClangCandidate[];
  /** The package to install (Debian's name). */
  readonly package = CLANG_PACKAGE;

  constructor(tried: readonly ClangCandidate[]) {
    const list = tried.length
      ? tried.map((t) => `${t.candidate}: ${t.reason}`).join("; ")
      : "no clang on PATH";
    super(
      `no usable clang (tsbpf needs clang 14 or later with the BPF target): ${list}. ` +
        `Install one with \`apt-get install ${CLANG_PACKAGE}\` (or your distribution's ` +
        "clang package), or point TSBPF_CLANG at it",
    );
    this.tried = tried;
  }
}

/**
 * clang failed on the source. `diagnostics` are clang's messages, parsed; the user's
 * source is named by the `name` option in them and in `stderr` (clang's output, whole).
 */
export class CompileError extends Error {
  override readonly name = "CompileError";
  /** Every diagnostic clang printed (errors, warnings and notes), in order. */
  readonly diagnostics: readonly Diagnostic[];
  /** clang's whole standard error, the source's temporary path replaced by its name. */
  readonly stderr: string;
  /** clang's exit code (null when a signal ended it). */
  readonly exitCode: number | null;
  /** The clang command line that failed (the source as a relative file name). */
  readonly command: readonly string[];

  constructor(
    name: string,
    diagnostics: readonly Diagnostic[],
    stderr: string,
    exitCode: number | null,
    command: readonly string[],
  ) {
    const errors = diagnostics.filter((d) => d.severity === "error" || d.severity === "fatal");
    const first = errors[0];
    const summary = first
      ? `${formatDiagnostic(first)}${errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : ""}`
      : stderr.trim().split("\n")[0] || `clang exited with code ${exitCode}`;
    super(`compiling ${name} failed: ${summary}`);
    this.diagnostics = diagnostics;
    this.stderr = stderr;
    this.exitCode = exitCode;
    this.command = command;
  }
}

/**
 * vmlinux.h was needed but cannot be generated: the kernel publishes no BTF (built
 * without CONFIG_DEBUG_INFO_BTF), or the BTF file given cannot be read or dumped.
 */
export class VmlinuxError extends Error {
  override readonly name = "VmlinuxError";
  /** The BTF file vmlinux.h was to be generated from. */
  readonly btfPath: string;

  constructor(btfPath: string, message: string, options?: ErrorOptions) {
    super(`cannot provide vmlinux.h from ${btfPath}: ${message}`, options);
    this.btfPath = btfPath;
  }
}
