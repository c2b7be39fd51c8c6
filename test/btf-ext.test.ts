/**
 * .BTF.ext of clang objects: func_info matches the functions llvm-objdump lists per
 * section, line_info points at the source lines it quotes, CO-RE relocations are the
 * ones kitchen.bpf.c asks for.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CoreReloKind, parseBTF, parseBTFExt } from "../src/btf/index.ts";
import { parseELF } from "../src/elf/index.ts";

const DATA = join(import.meta.dirname, "testdata", "btf");
const hasObjdump = spawnSync("llvm-objdump-19", ["--version"]).status === 0;

function load(name: string) {
  const elf = parseELF(new Uint8Array(readFileSync(join(DATA, name))));
  const btf = parseBTF(elf.sections.find((s) => s.name === ".BTF")!.data);
  const ext = parseBTFExt(elf.sections.find((s) => s.name === ".BTF.ext")!.data, btf);
  return { elf, btf, ext };
}

for (const name of ["kitchen.bpf.o", "core.bpf.o"]) {
  test(`${name}: func_info names the functions llvm-objdump lists, per section`, {
    skip: hasObjdump ? false : "llvm-objdump-19 is not installed",
  }, () => {
    const { btf, ext } = load(name);
    // "0000000000000000 g     F xdp	00000000000000c8 prog"
    const table = execFileSync("llvm-objdump-19", ["-t", join(DATA, name)], { encoding: "utf8" });
    const expected = new Map<string, string[]>();
    for (const line of table.split("\n")) {
      const m = /^([0-9a-f]{16}) .{6}F (\S+)\s+[0-9a-f]+ (\S+)$/.exec(line);
      if (!m) continue;
      const list = expected.get(m[2]!) ?? [];
      list.push(`${Number.parseInt(m[1]!, 16)} ${m[3]}`);
      expected.set(m[2]!, list);
    }
    const actual = new Map<string, string[]>();
    for (const [sec, recs] of ext.funcInfo) {
      actual.set(
        sec,
        recs.map((r) => `${r.insnOff} ${btf.type(r.typeId).name}`),
      );
    }
    const norm = (m: Map<string, string[]>) =>
      [...m].map(([k, v]) => `${k}: ${[...v].sort().join(", ")}`).sort();
    assert.deepEqual(norm(actual), norm(expected));
    for (const recs of ext.funcInfo.values()) {
      for (const r of recs) assert.equal(btf.type(r.typeId).kind, "FUNC");
    }
  });

  test(`${name}: line_info quotes the source line at its line number`, () => {
    const { ext } = load(name);
    const src = readFileSync(join(DATA, name.replace(/\.o$/, ".c")), "utf8").split("\n");
    let n = 0;
    for (const [sec, recs] of ext.lineInfo) {
      let prev = -1;
      for (const r of recs) {
        assert.equal(r.fileName, `./${name.replace(/\.o$/, ".c")}`);
        assert.equal(
          r.line,
          src[r.lineNumber - 1],
          `${sec} insn ${r.insnOff / 8}: line ${r.lineNumber}`,
        );
        assert.ok(r.insnOff > prev, "records are in instruction order");
        assert.equal(r.insnOff % 8, 0);
        prev = r.insnOff;
        n++;
      }
    }
    assert.ok(n > 0, "there are line records");
  });
}

test("kitchen.bpf.o: CO-RE relocations of the builtins in prog()", () => {
  const { btf, ext } = load("kitchen.bpf.o");
  assert.deepEqual(ext.recordSizes, { funcInfo: 8, lineInfo: 16, coreRelo: 16 });
  const relos = ext.coreRelos.get("xdp") ?? [];
  const nested = btf.findByName("STRUCT", "nested")!.id;
  const color = btf.findByName("ENUM", "color")!.id;
  assert.deepEqual(
    relos.map((r) => [r.typeId, r.accessStr, r.kind]),
    [
      [nested, "0:11:1", CoreReloKind.FIELD_BYTE_OFFSET], // ctx->bf.b
      [nested, "0:11:3", CoreReloKind.FIELD_BYTE_SIZE], // ctx->bf.d
      [nested, "0:15", CoreReloKind.FIELD_EXISTS], // ctx->eb
      [nested, "0", CoreReloKind.TYPE_SIZE], // *ctx
      [color, "1", CoreReloKind.ENUMVAL_VALUE], // GREEN
    ],
  );
});
