/**
 * The event tools' text, without a kernel: addresses as the kernel's byte arrays hold
 * them, exit codes as task->exit_code packs them, mount flags, errno results, and rows
 * decoded from records built here byte by byte, against BCC's example lines.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AF_INET, AF_INET6, inetAddress, resultText, signalName } from "./event-text.ts";
import { exitCodeText, exitHeader } from "./exitsnoop.ts";
import { decodeKillEvent, formatKillRow, KILL_HEADER } from "./killsnoop.ts";
import { flagsText, MOUNT_HEADER } from "./mountsnoop.ts";
import { RETRANS_HEADER } from "./tcpretrans.ts";

const bytes = (...b: number[]) => Uint8Array.from([...b, ...new Array(16 - b.length).fill(0)]);

test("inetAddress: dotted IPv4, RFC 5952 IPv6 (longest zero run, not a single group), v4-mapped", () => {
  assert.equal(inetAddress(AF_INET, bytes(127, 0, 0, 1), 0), "127.0.0.1");
  assert.equal(inetAddress(AF_INET6, bytes(...new Array(15).fill(0), 1), 0), "::1");
  assert.equal(inetAddress(AF_INET6, bytes(), 0), "::");
  const doc = bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1);
  assert.equal(inetAddress(AF_INET6, doc, 0), "2001:db8:0:1::1");
  const single = bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1);
  assert.equal(inetAddress(AF_INET6, single, 0), "2001:db8:0:1:1:1:1:1");
  const mapped = bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3);
  assert.equal(inetAddress(AF_INET6, mapped, 0), "::ffff:10.1.2.3");
});

test("exit codes as exitsnoop words them; signal names; errno results", () => {
  assert.equal(exitCodeText(0), "0");
  assert.equal(exitCodeText(65 << 8), "code 65");
  assert.equal(exitCodeText(2), "signal 2 (INT)");
  assert.equal(exitCodeText(11 | 0x80), "signal 11 (SEGV), core dumped");
  assert.equal(signalName(9), "KILL");
  assert.equal(resultText(0), "0");
  assert.equal(resultText(-2), "-ENOENT");
  assert.equal(resultText(5), "5");
});

test("mount flags: names, MS_MGC_VAL, leftovers in hex, 0x0 for none", () => {
  const ms = (f: bigint) =>
    flagsText(f, [
      [1, "MS_RDONLY"],
      [4096, "MS_BIND"],
    ]);
  assert.equal(ms(0n), "0x0");
  assert.equal(ms(4097n), "MS_RDONLY|MS_BIND");
  assert.equal(ms(0x10001n), "MS_RDONLY|0x10000");
});

test("headers are BCC's example headers; a killsnoop record decodes to BCC's row", () => {
  assert.equal(KILL_HEADER, "TIME      PID    COMM             SIG  TPID   RESULT\n");
  assert.equal(MOUNT_HEADER, "COMM             PID     TID     MNT_NS      CALL\n");
  assert.equal(
    RETRANS_HEADER,
    "TIME     PID    IP LADDR:LPORT          T> RADDR:RPORT          STATE\n",
  );
  assert.equal(
    exitHeader({ pid: 0, failed: false, perThread: false }),
    "PCOMM            PID    PPID   TID    AGE(s)  EXIT_CODE\n",
  );
  const rec = new Uint8Array(40);
  const v = new DataView(rec.buffer);
  v.setUint32(8, 13967, true);
  v.setInt32(12, 1024, true);
  v.setInt32(16, 9, true);
  v.setInt32(20, -3, true);
  rec.set(new TextEncoder().encode("bash"), 24);
  const at = new Date(2026, 0, 1, 12, 11, 34);
  assert.equal(
    formatKillRow(decodeKillEvent(rec), at),
    "12:11:34  13967  bash             9    1024   -3\n",
  );
  assert.throws(() => decodeKillEvent(rec.subarray(0, 39)), /kill event: record of 39 bytes/);
});
