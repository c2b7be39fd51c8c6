/**
 * BPF C compiled at run time, as BCC does, with CO-RE: `compile(source)` finds clang
 * (14 or later), provides vmlinux.h from the running kernel's BTF and libbpf's
 * bpf_helpers.h, bpf_tracing.h, bpf_core_read.h and bpf_endian.h (libbpf-dev's when
 * installed, else copies shipped in vendor/libbpf), caches objects on disk, and returns
 * a `CollectionSpec` for either backend. Errors are typed: {@link ClangNotFoundError},
 * {@link CompileError} (clang's diagnostics with file:line:column), {@link VmlinuxError}.
 *
 * Node only (it runs clang), and it does not load the kernel backend: compiling needs
 * no root, and the result loads into the VM as well as the kernel.
 *
 * @example
 * ```ts
 * import { compile } from "tsbpf/compile";
 * import { VirtualMachine } from "tsbpf/vm";
 * const spec = await compile(source, { defines: { MAX_ENTRIES: "64" } });
 * using vm = VirtualMachine.load(spec);
 * ```
 * @module
 */

export { defaultCacheDir, type Environment } from "./cache-dir.ts";
export {
  type CompiledObject,
  type CompileOptions,
  type CompileTarget,
  compile,
  compileObject,
} from "./compile.ts";
export {
  type Diagnostic,
  type DiagnosticSeverity,
  formatDiagnostic,
  parseDiagnostics,
} from "./diagnostics.ts";
export {
  CLANG_PACKAGE,
  type ClangCandidate,
  ClangNotFoundError,
  CompileError,
  VmlinuxError,
} from "./errors.ts";
export { type ClangInfo, type FindClangOptions, findClang, MIN_CLANG_MAJOR } from "./find-clang.ts";
export { KERNEL_BTF_PATH, type VmlinuxHeader, vmlinuxHeader } from "./vmlinux-header.ts";
