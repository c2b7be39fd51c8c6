// Types for scripts/test-files.mjs (a plain script, imported by its test).
export function testFiles(root: string): string[];
export function kernelFacingTests(root: string, files: string[]): string[];
