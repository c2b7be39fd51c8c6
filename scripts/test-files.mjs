// Which test files there are, and which of them can reach the kernel.
//
// A test file "reaches the kernel" when it, or a module it imports (relative imports,
// followed through test/ and src/), is under src/kernel/ (tsbpf's bpf(2) side) or is
// test/support/kernel.ts (the kernel tests' skip helper). The others — the ELF, BTF,
// ISA and VM cores, the type checks — never make a bpf(2) call, so they give the same
// result on every kernel: the kernel matrix runs them once, on the host.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** Every *.test.ts under `dir` (relative to `root`), leaving out node_modules and testdata. */
function collect(root, dir, out) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules" && e.name !== "testdata")
      collect(root, p, out);
    else if (e.isFile() && e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

/** The test files under src/ and test/, as paths relative to `root`, sorted. */
export function testFiles(root) {
  return [...collect(root, "src", []), ...collect(root, "test", [])].sort();
}

// `import ... from "./x"`, `export ... from "./x"`, `import "./x"` and `import("./x")`
// with a literal relative specifier.
const RELATIVE_IMPORT = /\b(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/** The file a relative specifier names: as written, or its .ts twin for a .js name. */
function resolveSpecifier(from, spec) {
  const p = resolve(dirname(from), spec);
  if (existsSync(p)) return p;
  if (p.endsWith(".js") && existsSync(`${p.slice(0, -3)}.ts`)) return `${p.slice(0, -3)}.ts`;
  if (existsSync(`${p}.ts`)) return `${p}.ts`;
  return undefined;
}

/**
 * The test files (relative paths, as {@link testFiles} gives them) that can reach the
 * kernel, in the order given.
 */
export function kernelFacingTests(root, files) {
  const memo = new Map();
  let cycles = 0; // how many times a search met a file already on its own path
  const isKernelModule = (rel) =>
    (rel.startsWith("src/kernel/") && !rel.endsWith(".test.ts")) ||
    rel === "test/support/kernel.ts";
  const reaches = (file, path) => {
    const known = memo.get(file);
    if (known !== undefined) return known;
    if (path.has(file)) {
      cycles++; // an import cycle: decided where it started
      return false;
    }
    if (isKernelModule(relative(root, file))) {
      memo.set(file, true);
      return true;
    }
    path.add(file);
    const cyclesBefore = cycles;
    let found = false;
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      // an unreadable file imports nothing
    }
    for (const m of text.matchAll(RELATIVE_IMPORT)) {
      const target = resolveSpecifier(file, m[1]);
      if (target && reaches(target, path)) {
        found = true;
        break;
      }
    }
    path.delete(file);
    // a "no" that cut a cycle holds only on this path: found again from elsewhere
    if (found || cycles === cyclesBefore) memo.set(file, found);
    return found;
  };
  return files.filter((f) => reaches(resolve(root, f), new Set()));
}
