/**
 * `tsbpf feature probe` against bpftool's on this kernel: the same sections, system
 * configuration lines, program and map types (tsbpf knows newer ones too), and helper
 * lists that are per program type — a subset of bpftool 7.1's, which claims every
 * helper for every type on 6.18, and the same as its lists on 6.1, where its probe
 * works — in plain text, JSON and macros.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { bpftool, compareSkip, tsbpf } from "./cli-run.ts";

const sections = (text: string) => text.split("\n").filter((l) => l.startsWith("Scanning"));

test("plain text: bpftool's sections and lines; helpers per program type", {
  skip: compareSkip,
}, async () => {
  const t = await tsbpf("feature", "probe", "kernel");
  const b = bpftool("feature", "probe", "kernel");
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual(sections(t.stdout), sections(b.stdout));
  const tl = new Set(t.stdout.split("\n"));
  // System configuration and every type bpftool knows: the same lines.
  const typeLines = b.stdout
    .split("\n")
    .filter((l) => /^(eBPF (program|map)_type|CONFIG_|JIT|bpf\(\)|Bounded|Large|ISA)/.test(l));
  assert.ok(typeLines.length > 90);
  for (const l of typeLines) assert.ok(tl.has(l), `missing: ${l}`);
  // Newer than bpftool 7.1, listed either way (Linux >= 6.4 has it; 6.1 does not).
  assert.ok(
    tl.has("eBPF program_type netfilter is available") ||
      tl.has("eBPF program_type netfilter is NOT available"),
  );
  // Helpers: tsbpf lists what the verifier accepts per type, never more than bpftool.
  const helpers = (text: string, type: string) => {
    const m = new RegExp(`for program type ${type}:\\n((?:\\t.*\\n)*)`).exec(text);
    return (m?.[1] ?? "").split("\n").filter(Boolean);
  };
  const ts = helpers(t.stdout, "socket_filter");
  const bs = helpers(b.stdout, "socket_filter");
  assert.ok(ts.includes("\t- bpf_map_lookup_elem"));
  assert.ok(!ts.includes("\t- bpf_redirect"), "socket filters cannot call bpf_redirect");
  assert.ok(ts.length <= bs.length);
  // (bpftool 7.1 does not know the helpers added since Linux 6.1.)
  const known = new Set(b.stdout.split("\n").filter((l) => l.startsWith("\t- ")));
  for (const h of ts) if (known.has(h)) assert.ok(bs.includes(h), `${h} not in bpftool's list`);
  // Where bpftool's own probe reads the verifier right (Linux 6.1: it does not claim
  // bpf_redirect for socket filters), the lists are the same.
  if (!bs.includes("\t- bpf_redirect")) {
    assert.deepEqual(
      ts.filter((h) => known.has(h)),
      bs,
    );
  }
  // the last misc line (ISA extension v4: 6.6) is there either way
  assert.match(t.stdout, /\nISA extension v4 is (NOT )?available\n\n$/);
});

test("JSON: bpftool's keys and shapes", { skip: compareSkip }, async () => {
  const t = JSON.parse((await tsbpf("-j", "feature", "probe")).stdout);
  const b = JSON.parse(bpftool("-j", "feature", "probe").stdout);
  assert.deepEqual(Object.keys(t), Object.keys(b));
  assert.deepEqual(t.system_config, b.system_config);
  assert.deepEqual(t.syscall_config, b.syscall_config);
  for (const [k, v] of Object.entries(b.program_types)) assert.equal(t.program_types[k], v, k);
  for (const [k, v] of Object.entries(b.map_types)) assert.equal(t.map_types[k], v, k);
  for (const [k, v] of Object.entries(b.misc)) assert.equal(t.misc[k], v, k);
  const known = new Set(Object.values(b.helpers as Record<string, string[]>).flat());
  for (const [k, list] of Object.entries(b.helpers as Record<string, string[]>)) {
    assert.ok(Array.isArray(t.helpers[k]), k);
    for (const h of t.helpers[k]) if (known.has(h)) assert.ok(list.includes(h), `${k}: ${h}`);
  }
});

test("macros with a prefix: bpftool's #defines", { skip: compareSkip }, async () => {
  const t = (await tsbpf("feature", "probe", "macros", "prefix", "FOO_")).stdout.split("\n");
  const b = bpftool("feature", "probe", "macros", "prefix", "FOO_").stdout.split("\n");
  const notHelpers = (l: string) => !l.includes("__HELPER_");
  const tl = new Set(t);
  for (const l of b.filter(notHelpers)) assert.ok(tl.has(l), `missing: ${l}`);
  assert.ok(tl.has("#define FOO_BPF__PROG_TYPE_xdp__HELPER_bpf_redirect 1"));
  assert.ok(tl.has("#define FOO_BPF__PROG_TYPE_socket_filter__HELPER_bpf_redirect 0"));
});

test("argument errors as bpftool", { skip: compareSkip }, async () => {
  for (const args of [
    ["feature", "probe", "foo"],
    ["feature", "probe", "prefix", "X"],
    ["feature", "probe", "kernel", "kernel"],
    ["feature", "probe", "macros", "prefix"],
  ]) {
    const t = await tsbpf(...args);
    const b = bpftool(...args);
    assert.equal(t.stderr, b.stderr, args.join(" "));
    assert.equal(t.code, b.code, args.join(" "));
  }
});
