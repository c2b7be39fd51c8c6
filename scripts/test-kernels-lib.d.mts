// Types for scripts/test-kernels-lib.mjs (a plain script, imported by its test).
export const KERNELS: string[];
export const USAGE: string;
export class UsageError extends Error {}
export interface Options {
  kernels: string[];
  words: string[];
  command: string[] | undefined;
  jobs: number | undefined;
  memory: number;
  timeout: number;
  verbose: boolean;
  help: boolean;
}
export function parseArgs(argv: string[]): Options;
export const PACKAGE_PATTERNS: Record<string, RegExp>;
export function pickPackage(kernel: string, names: string[]): string | undefined;
export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
}
export function parseTestSummary(text: string): Summary | undefined;
export function formatSummary(release: string, s: Summary | undefined): string;
export function shQuote(s: string): string;
export interface CpioEntry {
  path: string;
  type: "dir" | "file" | "symlink";
  mode?: number;
  mtime?: number;
  ino?: number;
  data?: Uint8Array;
}
export function cpioRecord(entry: CpioEntry): Buffer;
export function cpioTrailer(): Buffer;
export function missingParents(path: string, seen: Set<string>): string[];
export function moduleName(file: string): string;
export function modinfoDepends(bytes: Uint8Array): string[];
export function moduleLoadOrder(
  wanted: string[],
  depsOf: (name: string) => string[] | undefined,
): { order: string[]; missing: string[] };
export const READY_MARK: string;
export const EXIT_MARK: string;
export function initScript(o: {
  release: string;
  modules: string[];
  cwd: string;
  command: string[];
  env?: Record<string, string>;
}): string;
export function parseGuestOutput(text: string): {
  ready: boolean;
  status: number | undefined;
  output: string;
};
export function findKernelPayload(image: Uint8Array): { offset: number; tool: string } | undefined;
export function tsxTransformOptions(
  nodeVersion: string,
  compilerOptions: Record<string, unknown>,
): Record<string, unknown>;
export function lineWriter(
  prefix: string,
  sink: (text: string) => void,
): { write(text: string): void; end(): void };
