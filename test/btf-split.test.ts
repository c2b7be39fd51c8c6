/**
 * Split BTF (a kernel module's, on top of vmlinux): ids continue after the base's last
 * id, string offsets after the base's strings. Compared with bpftool's `-B base`
 * dumps, on a module's BTF from /sys/kernel/btf when one is loaded, and on a split
 * blob built here either way.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  type BTF,
  BTFError,
  type BTFType,
  dumpC,
  dumpRaw,
  encodeBTF,
  encodeTypes,
  parseBTF,
} from "../src/btf/index.ts";
import { assertSameLines } from "./btf-compare.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const hasBpftool = spawnSync("bpftool", ["version"]).status === 0;
const skip = existsSync(VMLINUX) ? false : "no /sys/kernel/btf/vmlinux";

function bpftool(file: string, format: "c" | "raw"): string {
  return execFileSync("bpftool", ["btf", "dump", "file", file, "-B", VMLINUX, "format", format], {
    maxBuffer: 1 << 30,
    encoding: "utf8",
  });
}

/** A module-like split blob: a struct pointing at vmlinux's task_struct, a typedef, an enum. */
function moduleTypes(base: BTF): BTFType[] {
  const n = base.count;
  const task = base.findByName("STRUCT", "task_struct")!.id;
  const u64 = base.findByName("TYPEDEF", "u64")!.id;
  return [
    {
      kind: "STRUCT",
      id: n,
      name: "tsbpf_mod_state",
      size: 24,
      members: [
        { name: "task", type: n + 1, bitOffset: 0, bitfieldSize: 0 },
        { name: "counter", type: u64, bitOffset: 64, bitfieldSize: 0 },
        { name: "next", type: n + 2, bitOffset: 128, bitfieldSize: 0 },
      ],
    },
    { kind: "PTR", id: n + 1, name: "", type: task },
    { kind: "PTR", id: n + 2, name: "", type: n },
    { kind: "TYPEDEF", id: n + 3, name: "tsbpf_mod_state_t", type: n },
    {
      kind: "ENUM",
      id: n + 4,
      name: "tsbpf_mod_mode",
      size: 4,
      signed: false,
      values: [
        { name: "TSBPF_MOD_OFF", value: 0 },
        { name: "TSBPF_MOD_ON", value: 1 },
      ],
    },
  ];
}

describe("split BTF", { skip }, () => {
  const base = existsSync(VMLINUX) ? parseBTF(new Uint8Array(readFileSync(VMLINUX))) : undefined;

  test("a hand-built split blob: ids and strings continue the base's", () => {
    const b = base as BTF;
    const blob = encodeTypes(moduleTypes(b), { base: b });
    const split = parseBTF(blob, { base: b });
    assert.equal(split.firstId, b.count);
    assert.equal(split.count, b.count + 5);
    assert.equal(split.base, b);
    const s = split.findByName("STRUCT", "tsbpf_mod_state")!;
    assert.equal(s.id, b.count);
    assert.equal(split.type(s.members[0]!.type).kind, "PTR");
    assert.equal(split.resolve(s.members[1]!.type).name, "long long unsigned int");
    assert.equal(split.sizeof(s.id), 24);
    // Base types are reachable through the split BTF.
    assert.equal(
      split.findByName("STRUCT", "task_struct")?.id,
      b.findByName("STRUCT", "task_struct")?.id,
    );
    // The split blob's string offsets start after the base's strings.
    const v = new DataView(blob.buffer, blob.byteOffset);
    assert.ok(
      v.getUint32(24, true) > b.strings.length,
      "first name offset is past the base's strings",
    );
    // Re-encoding gives the same blob.
    assert.deepEqual(encodeBTF(split), blob);
    assert.equal(
      dumpRaw(split).split("\n")[0],
      `[${b.count}] STRUCT 'tsbpf_mod_state' size=24 vlen=3`,
    );
  });

  test("names in split BTF may point into the base's strings", () => {
    const b = base as BTF;
    // A TYPEDEF whose name offset is the base's "u64".
    const u64 = b.findByName("TYPEDEF", "u64")!;
    const td = encodeTypes([{ kind: "TYPEDEF", id: b.count, name: "zzz", type: u64.type }], {
      base: b,
    });
    const view = new DataView(td.buffer, td.byteOffset);
    const nameOff = (u64 as unknown as { nameOff: number }).nameOff;
    assert.ok(nameOff > 0 && nameOff < b.strings.length);
    view.setUint32(24, nameOff, true);
    const split = parseBTF(td, { base: b });
    assert.equal(split.type(b.count).name, "u64");
  });

  test("without its base, split BTF fails naming the missing type and the offset", () => {
    const b = base as BTF;
    const blob = encodeTypes(moduleTypes(b), { base: b });
    assert.throws(
      () => parseBTF(blob),
      (e: unknown) =>
        e instanceof BTFError &&
        e.offset !== undefined &&
        /string offset|refers to/.test(e.message),
    );
  });

  test("dumps of the hand-built split blob match bpftool -B vmlinux", {
    skip: hasBpftool ? false : "bpftool is not installed",
  }, () => {
    const b = base as BTF;
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-split-"));
    try {
      const file = join(dir, "mod.btf");
      const blob = encodeTypes(moduleTypes(b), { base: b });
      writeFileSync(file, blob);
      const split = parseBTF(blob, { base: b });
      assertSameLines(dumpRaw(split), bpftool(file, "raw"), "format raw of the split blob");
      assertSameLines(dumpC(split), bpftool(file, "c"), "format c of the split blob");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const modules = existsSync("/sys/kernel/btf")
    ? readdirSync("/sys/kernel/btf").filter((n) => n !== "vmlinux")
    : [];
  test("a kernel module's BTF from /sys/kernel/btf matches bpftool -B vmlinux", {
    skip:
      modules.length === 0
        ? "no kernel module publishes BTF here"
        : !hasBpftool && "bpftool is not installed",
  }, () => {
    const name = modules[0]!;
    const file = `/sys/kernel/btf/${name}`;
    const split = parseBTF(new Uint8Array(readFileSync(file)), { base: base as BTF });
    assert.equal(split.firstId, (base as BTF).count);
    assertSameLines(dumpRaw(split), bpftool(file, "raw"), `format raw of module ${name}`);
  });
});
