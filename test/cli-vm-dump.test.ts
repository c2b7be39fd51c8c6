/**
 * `tsbpf vm dump jited OBJ PROG`: the JIT's JavaScript for a program of an object, the
 * same source the VM compiles in process; bad words and names fail saying which.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { VirtualMachine } from "../src/vm/index.ts";
import { tsbpf } from "./cli-run.ts";

const OBJ = join(import.meta.dirname, "../examples/xdp-count/xdp-count.bpf.o");

describe("vm dump jited", () => {
  test("prints the generated function, the same the VM compiles", async () => {
    const r = await tsbpf("vm", "dump", "jited", OBJ, "xdp_count");
    assert.equal(r.code, 0, r.stderr);
    const [head, ...body] = r.stdout.split("\n");
    assert.match(
      head ?? "",
      /^\/\/ xdp program "xdp_count": 62 instructions, \d+ chars of JavaScript$/,
    );
    const vm = VirtualMachine.load(loadCollectionSpec(readFileSync(OBJ)), {
      jit: "always",
      jitTarget: "js",
    });
    const source = vm.programs.xdp_count?.jitSource;
    assert.ok(source);
    assert.equal(body.join("\n"), `${source}\n`);
    // The hash map's lookup is inline (its key on the stack, its map an lddw).
    assert.match(source, /lookupSite\(m, \d+, \d+\)/);
  });
  test("-j gives name, type, instructions and source", async () => {
    const r = await tsbpf("-j", "vm", "dump", "jited", OBJ, "xdp_count");
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout) as { name: string; type: string; insns: number; source: string };
    assert.deepEqual([v.name, v.type, v.insns], ["xdp_count", "xdp", 62]);
    assert.match(v.source, /function jit\(m, start, base/);
  });
  test("another dump, a missing program and missing words fail saying so", async () => {
    const x = await tsbpf("vm", "dump", "xlated", OBJ, "xdp_count");
    assert.notEqual(x.code, 0);
    assert.match(x.stderr, /'xlated' is not something 'vm dump' prints: jited/);
    const p = await tsbpf("vm", "dump", "jited", OBJ, "nope");
    assert.notEqual(p.code, 0);
    assert.match(p.stderr, /no program "nope" in .* \(it has: xdp_count\)/);
    const w = await tsbpf("vm", "dump", "jited", OBJ);
    assert.notEqual(w.code, 0);
    assert.equal(w.stdout, "");
  });
  test("help lists it", async () => {
    const r = await tsbpf("vm", "help");
    assert.match(r.stdout, /vm dump jited OBJ PROG/);
  });
});
