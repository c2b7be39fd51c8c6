// @ts-nocheck -- a fixture for test/layering.test.ts, never run or compiled: every way a
// TypeScript file can name another module, read as if it sat at src/isa/. Each one
// breaks a layering rule there, so the scanner must find them all — and nothing in the
// comments, strings and template text around them.
//
// import "../kernel/decoy-line-comment.ts";
/* export * from "../kernel/decoy-block-comment.ts"; */
/**
 * @example
 * import { x } from "../kernel/decoy-jsdoc.ts";
 */

import { a } from "../kernel/static.ts";
import "node:fs";
import type { T } from "../cli/type-only.ts";
import {
  b,
  c,
} from "../kernel/multi-line.ts";
export * from "../vm/star.ts";
export * as ns from "../vm/star-as.ts";
export { d } from "../elf/named.ts";
export type { E } from "../spec/type-named.ts";
import x = require("koffi");
const y = require("node:path");
const name = "computed";
const m1 = await import("../btf/dynamic.ts");
const m2 = await import(`../kernel/template.ts`);
const m3 = await import(`../kernel/${name}.ts`);
const m4 = await import(name);
let t: typeof import("../kernel/import-type.ts");
import "../index.ts";

const decoys = [
  "import '../kernel/decoy-string.ts'",
  'export * from "../kernel/decoy-string2.ts"',
  `import("../kernel/decoy-template.ts")`,
  `${name} import "../kernel/decoy-template2.ts"`,
];
export const q = import.meta.url;
