import assert from "node:assert/strict";
import { test } from "node:test";
import { type SyscallCount, syscountReport } from "./syscount-report.ts";

const NAMES = new Map([
  [0, "read"],
  [1, "write"],
  [23, "select"],
  [35, "nanosleep"],
]);
const now = new Date(2026, 0, 1, 9, 39, 4);
const row = (key: number, count: number, totalNs = 0, comm = ""): SyscallCount => ({
  key,
  count: BigInt(count),
  totalNs: BigInt(totalNs),
  comm,
});
const base = {
  top: 10,
  latency: false,
  milliseconds: false,
  perProcess: false,
  json: false,
  names: NAMES,
  now,
};

test("syscount: BCC's SYSCALL COUNT table, top by count, unknown numbers as [unknown: N]", () => {
  const text = syscountReport([row(1, 10739), row(0, 10584), row(321, 32)], base);
  assert.equal(
    text,
    "[09:39:04]\n" +
      "SYSCALL                   COUNT\n" +
      "write                     10739\n" +
      "read                      10584\n" +
      "[unknown: 321]               32\n" +
      "\n",
  );
});

test("syscount -L: the TIME (us) column, sorted by time; -m gives ms; -T cuts", () => {
  const rows = [row(35, 291, 12_038_707), row(23, 16, 3_415_860_022), row(1, 4, 63_389)];
  assert.equal(
    syscountReport(rows, { ...base, latency: true, top: 2 }),
    "[09:39:04]\n" +
      "SYSCALL                   COUNT        TIME (us)\n" +
      "select                       16      3415860.022\n" +
      "nanosleep                   291        12038.707\n" +
      "\n",
  );
  assert.match(
    syscountReport(rows, { ...base, latency: true, milliseconds: true }),
    /COUNT {8}TIME \(ms\)\nselect {23}16 {9}3415\.860\n/,
  );
});

test("syscount -P: PID COMM COUNT, as BCC's example", () => {
  assert.equal(
    syscountReport([row(13820, 548, 0, "vim"), row(529, 9, 0, "systemd-udevd")], {
      ...base,
      perProcess: true,
    }),
    "[09:39:04]\n" +
      "PID    COMM               COUNT\n" +
      "13820  vim                  548\n" +
      "529    systemd-udevd          9\n" +
      "\n",
  );
});

test("syscount -j: one object per report", () => {
  const j = JSON.parse(syscountReport([row(0, 5, 7000)], { ...base, json: true, latency: true }));
  assert.deepEqual(j, {
    time: "09:39:04",
    syscalls: [{ syscall: "read", nr: 0, count: 5, total_ns: 7000 }],
  });
});
