import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { functionSymbols } from "../../kernel/links/uprobe-symbols.ts";
import { KernelSymbolTable } from "./kernel-symbol-table.ts";
import { ProcessSymbols, parsePerfMap, parseProcMaps } from "./process-symbols.ts";
import {
  decodeStackSum,
  formatStacks,
  type NamedStack,
  nameStacks,
  STACK_KEY_SIZE,
  type StackSum,
  stacksJson,
} from "./stack-report.ts";

const KALLSYMS =
  "ffffffff81000000 T _stext\n" +
  "ffffffff81000100 t read_zero\n" +
  "ffffffff81000200 T vfs_read\n" +
  "ffffffff81000280 D some_data\n" +
  "ffffffff81000300 t bpf_trace_run4\n" +
  "ffffffffc0000000 t mod_fn\t[mymod]\n";

test("kernel symbols: the function an address falls in; data symbols and addresses below the first unknown", () => {
  const t = KernelSymbolTable.parse(KALLSYMS);
  assert.equal(t.size, 5);
  assert.equal(t.name(0xffffffff81000100n), "read_zero");
  assert.equal(t.name(0xffffffff810001ffn), "read_zero");
  assert.equal(t.name(0xffffffff81000290n), "vfs_read", "the data symbol is left out");
  assert.equal(t.name(0xffffffffc0000010n), "mod_fn");
  assert.equal(t.name(0xffffffff80ffffffn), undefined);
  // kernel.kptr_restrict shows zeros: nothing to find
  assert.equal(KernelSymbolTable.parse("0000000000000000 T _stext\n").size, 0);
});

test("parseProcMaps: executable file mappings only, deleted files and anonymous memory left out", () => {
  const maps = parseProcMaps(
    "55d0a000-55d0b000 r--p 00000000 fe:01 100  /usr/bin/dd\n" +
      "55d0b000-55d10000 r-xp 00001000 fe:01 100  /usr/bin/dd\n" +
      "7f000000-7f100000 r-xp 00000000 00:00 0 \n" +
      "7f200000-7f201000 r-xp 00028000 fe:01 7 /tmp/old.so (deleted)\n" +
      "7ffd000-7ffe000 r-xp 00000000 00:00 0  [vdso]\n" +
      "7f300000-7f400000 r-xp 00028000 fe:01 8 /lib/with space.so\n",
  );
  assert.deepEqual(maps, [
    { start: 0x55d0b000n, end: 0x55d10000n, offset: 0x1000n, path: "/usr/bin/dd" },
    { start: 0x7f300000n, end: 0x7f400000n, offset: 0x28000n, path: "/lib/with space.so" },
  ]);
});

test("ProcessSymbols: an address in this process's libc names its function; an unmapped one nothing", (t) => {
  const self = parseProcMaps(readFileSync("/proc/self/maps", "utf8"));
  const libc = self.find((m) => /\/libc[.-]/.test(m.path));
  if (!libc) {
    t.skip("this node maps no glibc (static or musl)");
    return;
  }
  const getpid = functionSymbols(libc.path).find((s) => s.name === "getpid");
  assert.ok(getpid, `${libc.path} has getpid`);
  const address = getpid.fileOffset - libc.offset + libc.start;
  const syms = new ProcessSymbols(process.pid);
  // an alias at the same place may be the name shown (getpid, __getpid)
  assert.match(syms.name(address + 1n) ?? "", /getpid$/);
  assert.equal(syms.name(8n), undefined);
  assert.equal(new ProcessSymbols(0x7ffffff0).name(address), undefined, "no such process");
});

test("perf maps: JIT functions by address range; bad lines skipped; read for an address no file maps", () => {
  const text =
    "7f0000001000 40 LazyCompile:*run /app/x.js:3\nnot a line\n7f0000000100 20 Builtin:Add\n";
  assert.deepEqual(parsePerfMap(text), [
    { start: 0x7f0000000100n, end: 0x7f0000000120n, name: "Builtin:Add" },
    { start: 0x7f0000001000n, end: 0x7f0000001040n, name: "LazyCompile:*run /app/x.js:3" },
  ]);
  // a pid no process has: no maps, so every address is looked up in its perf map
  const pid = 0x7ffffff1;
  const path = `/tmp/perf-${pid}.map`;
  writeFileSync(path, text);
  try {
    const syms = new ProcessSymbols(pid);
    assert.equal(syms.name(0x7f000000103fn), "LazyCompile:*run /app/x.js:3");
    assert.equal(syms.name(0x7f0000001040n), undefined, "one past the end");
    assert.equal(syms.name(0x7f0000000110n), "Builtin:Add");
    assert.equal(syms.name(0x10n), undefined);
  } finally {
    rmSync(path, { force: true });
  }
});

function key(sum: Omit<StackSum, "value">): Uint8Array {
  const k = new Uint8Array(STACK_KEY_SIZE);
  const v = new DataView(k.buffer);
  v.setUint32(0, sum.pid, true);
  v.setUint32(4, sum.tgid, true);
  v.setInt32(8, sum.userStackId, true);
  v.setInt32(12, sum.kernelStackId, true);
  k.set(new TextEncoder().encode(sum.comm), 16);
  return k;
}

const u64 = (n: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
};

test("decodeStackSum: struct stack_key and its sum; a wrong size is named", () => {
  const s = { pid: 12, tgid: 10, comm: "dd", userStackId: 3, kernelStackId: -14 };
  assert.deepEqual(decodeStackSum(key(s), u64(7)), { ...s, value: 7 });
  assert.throws(() => decodeStackSum(new Uint8Array(31), u64(1)), /key of 31 bytes/);
});

const STACKS = new Map<number, bigint[]>([
  [1, [0xffffffff81000120n, 0xffffffff81000210n]],
  [2, [0xffffffff81000140n, 0xffffffff81000210n]],
  [3, [0xffffffff81000310n, 0xffffffff81000110n]],
]);
const kernel = KernelSymbolTable.parse(KALLSYMS);
const stackOf = (id: number) => STACKS.get(id) ?? [];
const sum = (s: Partial<StackSum>): StackSum => ({
  pid: 5,
  tgid: 0x7ffffff0, // no such process: user frames are [unknown]
  comm: "dd",
  userStackId: -14,
  kernelStackId: 1,
  value: 1,
  ...s,
});

test("nameStacks: stacks that name alike merge; -EFAULT is an empty stack, other errors missed", () => {
  const named = nameStacks(
    [
      sum({ kernelStackId: 1, value: 2 }),
      sum({ kernelStackId: 2, value: 3 }),
      sum({ kernelStackId: -12, userStackId: -17, value: 1 }),
    ],
    stackOf,
    kernel,
    { user: true, kernel: true },
  );
  assert.deepEqual(named.stacks, [
    { pid: 5, comm: "dd", value: 5, user: [], kernel: ["read_zero", "vfs_read"] },
    { pid: 5, comm: "dd", value: 1, user: null, kernel: null },
  ]);
  assert.equal(named.missed, 2);
  assert.equal(named.full, true);
});

test("nameStacks: -a suffixes kernel frames, hideLeaf drops the tracepoint's frames, -U leaves kernel out", () => {
  const opts = {
    user: true,
    kernel: true,
    annotations: true,
    hideLeaf: (n: string) => n.startsWith("bpf_"),
  };
  const [s] = nameStacks([sum({ kernelStackId: 3, userStackId: 1 })], stackOf, kernel, opts).stacks;
  assert.deepEqual(s?.kernel, ["read_zero_[k]"]);
  assert.deepEqual(s?.user, ["[unknown]", "[unknown]"]);
  const [u] = nameStacks([sum({})], stackOf, kernel, { user: true, kernel: false }).stacks;
  assert.equal(u?.kernel, undefined);
});

const DD: NamedStack = {
  pid: 42,
  comm: "dd",
  value: 14,
  user: ["read", "main"],
  kernel: ["read_zero", "vfs_read"],
};
const SWAPPER: NamedStack = { pid: 0, comm: "swapper/1", value: 3, user: [], kernel: ["idle"] };

test("formatStacks: BCC's blocks, smallest first: kernel frames, user frames, '-  comm (pid)', the sum", () => {
  assert.equal(
    formatStacks([DD, SWAPPER]),
    "    idle\n" +
      "    -                swapper/1 (0)\n        3\n\n" +
      "    read_zero\n    vfs_read\n    read\n    main\n" +
      "    -                dd (42)\n        14\n\n",
  );
  assert.equal(
    formatStacks([{ ...DD, user: null }], { delimited: true }),
    "    read_zero\n    vfs_read\n    [Missed User Stack]\n    -                dd (42)\n        14\n\n",
  );
  assert.match(formatStacks([DD], { delimited: true }), /vfs_read\n {4}--\n {4}read\n/);
});

test("formatStacks --folded: comm;user root first;-;kernel root first and the sum, for flamegraph.pl", () => {
  assert.equal(
    formatStacks([DD, SWAPPER], { folded: true, delimited: true }),
    "swapper/1;idle 3\ndd;main;read;-;vfs_read;read_zero 14\n",
  );
  assert.equal(formatStacks([DD], { folded: true }), "dd;main;read;vfs_read;read_zero 14\n");
  assert.equal(
    formatStacks([{ ...DD, kernel: null, user: undefined }], { folded: true }),
    "dd;[Missed Kernel Stack] 14\n",
  );
});

test("stacksJson: a line per stack, the sum under the tool's name, stacks leaf first", () => {
  assert.deepEqual(JSON.parse(stacksJson([DD], "samples")), {
    pid: 42,
    comm: "dd",
    samples: 14,
    user_stack: ["read", "main"],
    kernel_stack: ["read_zero", "vfs_read"],
  });
});
