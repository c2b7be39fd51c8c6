import assert from "node:assert/strict";
import { test } from "node:test";
import { parseKallsyms } from "./externs.ts";

test("parseKallsyms: vmlinux and module lines, first occurrence wins, linear on many lines", () => {
  const text = [
    "ffffffff81000000 T _stext",
    "ffffffff81001000 t dup_name",
    "ffffffff81002000 t dup_name",
    "ffffffffc0001000 t veth_open\t[veth]",
    "0000000000000000 A fixed_percpu_data",
    "",
  ].join("\n");
  const m = parseKallsyms(text);
  assert.equal(m.get("_stext"), "ffffffff81000000");
  assert.equal(m.get("dup_name"), "ffffffff81001000");
  assert.equal(m.get("veth_open"), "ffffffffc0001000");
  assert.equal(m.get("fixed_percpu_data"), "0000000000000000");
  assert.equal(m.size, 4);
  // 200,000 vmlinux lines and one module line at the end: the old scan searched for a
  // tab across the rest of the text from every line (quadratic); this must stay linear.
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++)
    lines.push(`ffffffff8${i.toString(16).padStart(7, "0")} t sym_${i}`);
  lines.push("ffffffffc0000000 t last\t[mod]");
  const big = parseKallsyms(lines.join("\n"));
  assert.equal(big.size, 200_001);
  assert.equal(big.get("last"), "ffffffffc0000000");
  assert.equal(big.get("sym_199999"), `ffffffff8${(199_999).toString(16).padStart(7, "0")}`);
});
