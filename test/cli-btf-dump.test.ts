/**
 * `tsbpf btf dump` side by side with bpftool 7.1: files (vmlinux, clang objects, a
 * split blob with `-B`), BTF objects by id, a map's and a program's BTF (an object
 * loaded by `bpftool prog loadall` so its maps and programs carry BTF), in raw, C,
 * `-j` and `-p`; errors and exit codes.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BTF, type BTFType, encodeTypes, parseBTF } from "../src/btf/index.ts";
import { vmlinuxBTF } from "../src/kernel/btf/kernel-btf.ts";
import { assertSameLines } from "./btf-compare.ts";
import {
  assertSameRun,
  bpftool,
  compareSkip,
  compareWithBpftool,
  fdSnapshot,
  hasBpftool,
  pinDir,
  type Run,
  tsbpf,
  tsbpfProcess,
} from "./cli-run.ts";
import { hostOnly } from "./support/kernel.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const TESTDATA = join(import.meta.dirname, "testdata");
const OBJECTS = ["elf", "btf", "cli"].flatMap((dir) =>
  readdirSync(join(TESTDATA, dir))
    .filter((f) => f.endsWith(".bpf.o"))
    .map((f) => join(TESTDATA, dir, f)),
);
const VALUES_OBJ = join(TESTDATA, "cli", "btf-values.bpf.o");

const same = (t: Run, b: Run, what: string) =>
  assertSameRun(t, b, what, { stdout: assertSameLines });
const compare = (...args: string[]) =>
  compareWithBpftool(args, { stdout: assertSameLines, modes: [[]] });

const noBpftool = hasBpftool ? false : "bpftool is not installed";

describe("btf dump file", { skip: noBpftool }, () => {
  test("test objects: raw, c, -j and -p identical to bpftool", {
    skip: hostOnly("dumping the test objects' BTF"),
  }, async () => {
    for (const obj of OBJECTS) {
      await compare("btf", "dump", "file", obj);
      await compare("btf", "dump", "file", obj, "format", "raw");
      await compare("btf", "dump", "file", obj, "format", "c");
      await compare("-j", "btf", "dump", "file", obj);
      await compare("-p", "btf", "dump", "file", obj, "format", "raw");
    }
  });

  test("vmlinux: raw and c identical to bpftool", { skip: !existsSync(VMLINUX) }, async () => {
    for (const format of ["raw", "c"]) {
      const t = await tsbpf("btf", "dump", "file", VMLINUX, "format", format);
      const b = bpftool("btf", "dump", "file", VMLINUX, "format", format);
      assert.equal(b.code, 0);
      same(t, b, `vmlinux format ${format}`);
    }
  });

  test("vmlinux -j: the same JSON, but unsigned enumerators unsigned", {
    skip: !existsSync(VMLINUX),
  }, async () => {
    const t = await tsbpf("-j", "btf", "dump", "file", VMLINUX);
    const b = bpftool("-j", "btf", "dump", "file", VMLINUX);
    assert.equal(t.code, 0, t.stderr);
    // bpftool prints a 32-bit enumerator of an UNSIGNED enum through a signed int
    // into a u64 (4026531839 becomes 18446744073441116159); tsbpf prints the value.
    const fixed = new Set<string>();
    const bText = b.stdout.replace(
      /\{"id":(\d+),"kind":"ENUM","name":"[^"]*","encoding":"UNSIGNED"[^\]]*\]/g,
      (m, id: string) =>
        m.replace(/"val":(\d+)/g, (v, n: string) => {
          if (n.length < 10 || BigInt(n) < 1n << 32n) return v;
          fixed.add(id);
          return `"val":${BigInt(n) & 0xffffffffn}`;
        }),
    );
    assert.ok(fixed.size > 0, "vmlinux has unsigned enumerators >= 2^31");
    assertSameLines(t.stdout.replaceAll("},{", "},\n{"), bText.replaceAll("},{", "},\n{"), "-j");
  });

  test("split BTF with -B, and an ELF object as the base", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-btf-split-"));
    try {
      const base = vmlinuxBTF();
      const blob = join(dir, "mod.btf");
      writeFileSync(blob, encodeTypes(moduleTypes(base), { base }));
      for (const format of ["raw", "c"]) {
        await compare("-B", VMLINUX, "btf", "dump", "file", blob, "format", format);
        await compare("btf", "dump", "file", blob, "--base-btf", VMLINUX, "format", format);
      }
      await compare("-j", "-B", VMLINUX, "btf", "dump", "file", blob);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("errors: missing file, bad format or option, C in JSON, unknown source", async () => {
    const obj = OBJECTS[0] as string;
    await compare("btf", "dump", "file", "/nonexistent/file");
    await compare("btf", "dump", "file", obj, "format", "x");
    await compare("btf", "dump", "file", obj, "format");
    await compare("btf", "dump", "file", obj, "zzz");
    await compare("-j", "btf", "dump", "file", obj, "format", "c");
    await compare("btf", "dump", "what", "x");
    await compare("btf", "dump", "id", "xyz");
    // tsbpf says what is wrong with a file that is not BTF (bpftool: "Unknown error 4001").
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-btf-bad-"));
    try {
      const bad = join(dir, "not-btf");
      writeFileSync(bad, "this is not BTF, nor an ELF object\n");
      const t = await tsbpf("btf", "dump", "file", bad);
      assert.equal(t.code, 255);
      assert.equal(
        t.stderr,
        `Error: failed to load BTF from ${bad}: BTF: bad magic 0x6874, expected 0xeb9f (at offset 0x0)\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("as a process: exit codes as bpftool's", () => {
    const t = tsbpfProcess("btf", "dump", "file", "/nonexistent/file");
    assert.equal(t.code, 254);
    assert.equal(
      t.stderr,
      "Error: failed to load BTF from /nonexistent/file: No such file or directory\n",
    );
    const ok = tsbpfProcess("btf", "dump", "file", VALUES_OBJ, "format", "c");
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, bpftool("btf", "dump", "file", VALUES_OBJ, "format", "c").stdout);
  });
});

/** A module-like split blob: a struct pointing at vmlinux's task_struct, a typedef, an enum. */
function moduleTypes(base: BTF): BTFType[] {
  const n = base.count;
  const task = base.findByName("STRUCT", "task_struct")?.id ?? 0;
  const int = base.findByName("INT", "int")?.id ?? 0;
  return [
    {
      kind: "STRUCT",
      id: n,
      name: "tsbpf_mod_state",
      size: 16,
      members: [
        { name: "task", type: n + 1, bitOffset: 0, bitfieldSize: 0 },
        { name: "count", type: int, bitOffset: 64, bitfieldSize: 0 },
      ],
    },
    { kind: "PTR", id: n + 1, name: "", type: task },
    { kind: "TYPEDEF", id: n + 2, name: "tsbpf_mod_state_t", type: n },
    {
      kind: "ENUM",
      id: n + 3,
      name: "tsbpf_mod_mode",
      size: 4,
      signed: false,
      values: [
        { name: "TSBPF_MOD_OFF", value: 0 },
        { name: "TSBPF_MOD_ON", value: 7 },
      ],
    },
  ];
}

describe("btf dump of kernel objects (map, prog, id)", { skip: compareSkip }, () => {
  let pins = { dir: "", cleanup: () => {} };
  before(() => {
    pins = pinDir("btf-dump");
    const r = bpftool("prog", "loadall", VALUES_OBJ, pins.dir, "pinmaps", join(pins.dir, "maps"));
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => pins.cleanup());

  test("map MAP [key|value|kv|all] and prog PROG, raw and c, as bpftool", async () => {
    const fds = fdSnapshot();
    for (const map of ["flows", "percpu", "names", "btf_valu_data", "btf_valu_rodata"]) {
      const sel = ["pinned", join(pins.dir, "maps", map)];
      for (const which of [[], ["key"], ["value"], ["kv"], ["all"], ["k"], ["v"]]) {
        await compare("btf", "dump", "map", ...sel, ...which);
        await compare("btf", "dump", "map", ...sel, ...which, "format", "c");
        await compare("-j", "btf", "dump", "map", ...sel, ...which);
      }
    }
    const prog = ["pinned", join(pins.dir, "count")];
    await compare("btf", "dump", "prog", ...prog);
    await compare("btf", "dump", "prog", ...prog, "format", "c");
    await compare("-p", "btf", "dump", "prog", ...prog);
    await compare("btf", "dump", "map", "name", "flows", "value", "format", "c");
    assert.deepEqual(fdSnapshot(), fds);
  });

  test("id: the BTF object a map uses, vmlinux's, and one that does not exist", async () => {
    const fds = fdSnapshot();
    const info = JSON.parse(
      bpftool("-j", "map", "show", "pinned", join(pins.dir, "maps", "flows")).stdout,
    );
    const id = String(info.btf_id);
    await compare("btf", "dump", "id", id);
    await compare("btf", "dump", "id", id, "format", "c");
    await compare("-j", "btf", "dump", "id", id);
    const vmlinuxId = JSON.parse(bpftool("-j", "btf", "show").stdout).find(
      (b: { name?: string }) => b.name === "vmlinux",
    )?.id;
    if (vmlinuxId !== undefined) {
      const t = await tsbpf("btf", "dump", "id", String(vmlinuxId));
      const b = bpftool("btf", "dump", "id", String(vmlinuxId));
      same(t, b, "vmlinux by id");
    }
    await compare("btf", "dump", "id", "4000000000");
    await compare("-j", "btf", "dump", "id", "4000000000");
    assert.deepEqual(fdSnapshot(), fds);
  });
});

test("btf dump needs a source", async () => {
  const r = await tsbpf("btf", "dump");
  assert.equal(r.code, 255);
  assert.match(r.stderr, /^Error: 'dump' needs at least 2 arguments, 0 found\nUsage: tsbpf btf/);
  assert.ok(parseBTF); // the module loads without a kernel
});
