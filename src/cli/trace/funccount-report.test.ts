import assert from "node:assert/strict";
import { test } from "node:test";
import { parseProbePattern } from "./funccount-probes.ts";
import { funccountReport, functionCounts } from "./funccount-report.ts";

const u64 = (n: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
};
const now = new Date(2026, 0, 1, 9, 39, 4);

test("funccount: counts by cookie, zeros dropped, least called first (ties in list order)", () => {
  const rows = functionCounts(
    [
      [u64(2), u64(470)],
      [u64(0), u64(0)],
      [u64(1), u64(2)],
      [u64(3), u64(2)],
    ],
    ["vfs_create", "vfs_fsync_range", "vfs_read", "vfs_write"],
  );
  assert.deepEqual(rows, [
    { name: "vfs_fsync_range", count: 2n },
    { name: "vfs_write", count: 2n },
    { name: "vfs_read", count: 470n },
  ]);
  assert.throws(() => functionCounts([[u64(4), u64(1)]], ["a"]), /a count for probe 4 of 1/);
  assert.throws(() => functionCounts([[new Uint8Array(4), u64(1)]], ["a"]), /4\+8 bytes/);
});

test("funccount: BCC's table (%-36s %8d), -T's time line, Detaching... after the last; JSON", () => {
  const rows = [
    { name: "read", count: 2n },
    { name: "write", count: 4n },
  ];
  assert.equal(
    funccountReport(rows, { json: false, timestamp: false, last: true, now }),
    `\nFUNC                                    COUNT\nread                                        2\nwrite                                       4\nDetaching...\n`,
  );
  assert.equal(
    funccountReport([], { json: false, timestamp: true, last: false, now }),
    `\n09:39:04\nFUNC                                    COUNT\n`,
  );
  assert.equal(
    funccountReport(rows, { json: true, timestamp: false, last: true, now }),
    '{"time":"09:39:04","functions":[{"func":"read","count":2},{"func":"write","count":4}]}\n',
  );
});

test("funccount patterns: split as BCC's, '*' the only wildcard, -r matched from the start", () => {
  const p = (text: string, regex = false) => {
    const { kind, library, pattern } = parseProbePattern(text, regex);
    return [kind, library, pattern];
  };
  assert.deepEqual(p("vfs_*"), ["kprobe", "", "vfs_*"]);
  assert.deepEqual(p("p::vfs_read"), ["kprobe", "", "vfs_read"]);
  assert.deepEqual(p("c:malloc"), ["uprobe", "c", "malloc"]);
  assert.deepEqual(p("p:c:mall*"), ["uprobe", "c", "mall*"]);
  assert.deepEqual(p("/bin/bash:readline"), ["uprobe", "/bin/bash", "readline"]);
  assert.deepEqual(p("t:block:*"), ["tracepoint", "", "block:*"]);
  assert.deepEqual(p("u:pthread:mutex*"), ["usdt", "pthread", "mutex*"]);
  const glob = parseProbePattern("c:mall*").match;
  assert.ok(glob.test("malloc") && glob.test("mallinfo2"));
  assert.ok(!glob.test("__libc_malloc") && !parseProbePattern("c:a.c").match.test("abc"));
  const re = parseProbePattern("c:(write|read)$", true).match;
  assert.ok(re.test("read") && re.test("write") && !re.test("pread") && !re.test("readv"));
  assert.throws(() => parseProbePattern("k:c:x"), /the type must be 'p', 't' or 'u', not 'k'/);
  assert.throws(() => parseProbePattern("u::x"), /a USDT pattern names its binary/);
});
