/**
 * The BTF string section (src/btf/strings.ts): lookups on ASCII sections (slices of one
 * decoded string), on UTF-8 ones, split BTF's continuation of its base, and `isEmpty`,
 * which the C dump asks for every name without making the string, and rawString, the
 * name reader of the raw-BTF walkers (the .BTF fixup, the extern rewrite).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BTFError, StringTable } from "../src/btf/index.ts";
import { rawString } from "../src/btf/raw-types.ts";

const enc = new TextEncoder();
/** A section of these strings after the leading empty one, and each one's offset. */
function section(strings: readonly string[]): { bytes: Uint8Array; offsets: number[] } {
  const parts = ["", ...strings].map((s) => enc.encode(`${s}\0`));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const offsets: number[] = [];
  let at = 0;
  for (const p of parts) {
    offsets.push(at);
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, offsets: offsets.slice(1) };
}

test("ASCII section: each offset gives its string, tails included; isEmpty agrees with get", () => {
  const names = ["task_struct", "", "x", "a_rather_long_name_of_more_than_thirteen_chars"];
  const { bytes, offsets } = section(names);
  const t = new StringTable(bytes);
  names.forEach((name, i) => {
    assert.equal(t.get(offsets[i] as number), name);
    assert.equal(t.isEmpty(offsets[i] as number), name === "");
  });
  // An offset into a string reads its tail, as the kernel does.
  assert.equal(t.get((offsets[0] as number) + 5), "struct");
  assert.equal(t.isEmpty(0), true);
  assert.throws(() => t.get(bytes.length), BTFError);
  assert.throws(() => t.isEmpty(bytes.length + 3), /out of range/);
});

test("UTF-8 section: strings decoded one by one, isEmpty the same", () => {
  const names = ["größe", "", "名前"];
  const { bytes, offsets } = section(names);
  const t = new StringTable(bytes);
  names.forEach((name, i) => {
    assert.equal(t.get(offsets[i] as number), name);
    assert.equal(t.isEmpty(offsets[i] as number), name === "");
  });
});

test("split BTF: offsets past the base's length are this section's", () => {
  const base = section(["vmlinux_name"]);
  const own = section(["module_name", ""]);
  const baseTable = new StringTable(base.bytes);
  // A split section starts right after the base's, without a leading NUL of its own.
  const t = new StringTable(own.bytes.subarray(1), 0, baseTable);
  const shift = base.bytes.length - 1;
  assert.equal(t.get(base.offsets[0] as number), "vmlinux_name");
  assert.equal(t.get(shift + (own.offsets[0] as number)), "module_name");
  assert.equal(t.isEmpty(base.offsets[0] as number), false);
  assert.equal(t.isEmpty(shift + (own.offsets[0] as number)), false);
  assert.equal(t.isEmpty(shift + (own.offsets[1] as number)), true);
});

test("rawString: a name of raw BTF bytes, up to its NUL or the stop", () => {
  const bytes = enc.encode("\0bpf_map\0größe\0open-ended");
  assert.equal(rawString(bytes, 1, bytes.length), "bpf_map");
  assert.equal(rawString(bytes, 9, bytes.length), "größe");
  // No NUL before the stop: the bytes up to it, ASCII or not.
  assert.equal(rawString(bytes, 1, 4), "bpf");
  assert.equal(rawString(bytes, 9, 13), "grö");
  assert.equal(rawString(bytes, bytes.length - 10, bytes.length), "open-ended");
  assert.equal(rawString(bytes, 0, bytes.length), "");
});
