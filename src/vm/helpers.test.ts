import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { asm, type Instruction, R0, R1, R2, R3, R4, R5, R10 } from "../isa/index.ts";
import { ProgType, skBuff } from "../uapi/index.ts";
import { VmError } from "./errors.ts";
import { VmProgram } from "./program.ts";

/** Stores `s` (NUL-terminated) on the stack below r10 and points r1 at it, r2 = size. */
function stackString(s: string): Instruction[] {
  const bytes = new TextEncoder().encode(`${s}\0`);
  const size = Math.ceil(bytes.length / 8) * 8;
  const out: Instruction[] = [];
  for (let i = 0; i < size; i++) out.push(asm.st(8, R10, -size + i, bytes[i] ?? 0));
  out.push(asm.mov64(R1, R10), asm.add64(R1, -size), asm.mov64(R2, bytes.length));
  return out;
}

describe("helpers", () => {
  test("trace_printk formats into the sink the caller reads", () => {
    const insns = [
      ...stackString("x=%d u=%u hex=%lx c=%c%%\n"),
      asm.mov64(R3, -5),
      asm.mov64(R4, -1),
      asm.lddw(R5, 0x1234_5678_9abcn),
      asm.call("trace_printk"),
      asm.exit(),
    ];
    const r = new VmProgram(insns).run();
    assert.deepEqual(r.printk, ["x=-5 u=4294967295 hex=123456789abc c=\u0000%"]);
    assert.equal(r.r0, BigInt("x=-5 u=4294967295 hex=123456789abc c=\u0000%\n".length));
  });
  test("get_prandom_u32 repeats with the same seed", () => {
    const insns = [asm.call("get_prandom_u32"), asm.exit()];
    const a = new VmProgram(insns, { seed: 42 }).run().r0;
    const b = new VmProgram(insns, { seed: 42 }).run().r0;
    assert.equal(a, b);
    assert.ok(a <= 0xffff_ffffn);
  });
  test("ktime_get_ns reads the caller's clock; smp_processor_id the caller's cpu", () => {
    assert.equal(
      new VmProgram([asm.call("ktime_get_ns"), asm.exit()], { clock: () => 123n }).run().r0,
      123n,
    );
    assert.equal(
      new VmProgram([asm.call("get_smp_processor_id"), asm.exit()], { cpu: 3 }).run().r0,
      3n,
    );
  });
  test("helpers can be replaced or added by id", () => {
    const p = new VmProgram([asm.mov64(R1, 20), asm.call(5), asm.exit()], {
      helpers: { 5: (m) => m.arg(1) * 2n },
    });
    assert.equal(p.run().r0, 40n);
  });
  test("a helper's bad pointer argument is a VmError naming the argument", () => {
    const p = new VmProgram([
      asm.mov64(R1, 0),
      asm.mov64(R2, 8),
      asm.call("trace_printk"),
      asm.exit(),
    ]);
    assert.throws(
      () => p.run(),
      (e: unknown) => e instanceof VmError && /argument r1/.test(e.message) && e.pc === 2,
    );
  });
});

describe("contexts", () => {
  test("raw memory mode: r1 points at the bytes, r2 holds their length", () => {
    const insns = [asm.ldx(8, R0, R1, 1), asm.add64(R0, R2), asm.st(8, R1, 0, 0x55), asm.exit()];
    const r = new VmProgram(insns).run({ mem: new Uint8Array([1, 2, 3]) });
    assert.equal(r.r0, 2n + 3n);
    assert.deepEqual(r.dataOut, new Uint8Array([0x55, 2, 3]));
    assert.throws(
      () => new VmProgram([asm.ldx(8, R0, R1, 3), asm.exit()]).run({ mem: new Uint8Array(3) }),
      /input memory/,
    );
  });
  test("xdp: data, data_end and the 256-byte headroom that adjust_head reaches", () => {
    const insns = [
      asm.mov64(R2, -256 + 40), // down to the end of struct xdp_frame
      asm.call("xdp_adjust_head"),
      asm.exit(),
    ];
    const r = new VmProgram(insns, { type: ProgType.XDP }).run({
      data: new Uint8Array(20).fill(9),
    });
    assert.equal(r.r0, 0n);
    assert.equal(r.dataOut.length, 20 + 216);
    assert.deepEqual(r.dataOut.subarray(216), new Uint8Array(20).fill(9));
  });
  test("xdp metadata from the ctx comes before the packet and out with it", () => {
    const ctx = new Uint8Array(24);
    const v = new DataView(ctx.buffer);
    v.setUint32(0, 8, true); // data: 8 bytes of metadata
    v.setUint32(4, 30, true); // data_end: the input's size
    const insns = [
      asm.ldx(32, R2, R1, 8),
      asm.ldx(32, R3, R1, 0),
      asm.mov64(R0, R3),
      asm.sub64(R0, R2),
      asm.exit(),
    ];
    const r = new VmProgram(insns, { type: ProgType.XDP }).run({ data: new Uint8Array(30), ctx });
    assert.equal(r.r0, 8n);
    assert.equal(r.dataOut.length, 30);
    assert.equal(new DataView(r.ctxOut!.buffer).getUint32(0, true), 8);
  });
  test("__sk_buff: writable fields come back in ctxOut, read-only ones refuse stores", () => {
    const ctx = new Uint8Array(skBuff.size);
    const insns = [
      asm.st(32, R1, skBuff.fields.mark.offset, 7),
      asm.st(32, R1, skBuff.fields.cb.offset + 4, 9),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    const r = new VmProgram(insns, { type: ProgType.SCHED_CLS }).run({
      data: new Uint8Array(64),
      ctx,
    });
    const out = new DataView(r.ctxOut!.buffer);
    assert.equal(out.getUint32(skBuff.fields.mark.offset, true), 7);
    assert.equal(out.getUint32(skBuff.fields.cb.offset + 4, true), 9);
    assert.equal(out.getUint32(skBuff.fields.ifindex.offset, true), 1);
    const bad = new VmProgram([asm.st(32, R1, 0, 1), asm.exit()], { type: ProgType.SCHED_CLS });
    assert.throws(
      () => bad.run({ data: new Uint8Array(64) }),
      /invalid write of 4 bytes .* __sk_buff context/,
    );
  });
  test("input the kernel would refuse is a RangeError", () => {
    const p = new VmProgram([asm.mov64(R0, 0), asm.exit()], { type: ProgType.XDP });
    assert.throws(() => p.run({ data: new Uint8Array(10) }), RangeError);
    const s = new VmProgram([asm.mov64(R0, 0), asm.exit()], { type: ProgType.SOCKET_FILTER });
    const ctx = new Uint8Array(skBuff.size);
    ctx[0] = 1; // len may not be set
    assert.throws(() => s.run({ data: new Uint8Array(64), ctx }), /byte 0 is not zero/);
  });
  test("repeat runs on the same input, as the kernel does", () => {
    const insns = [
      asm.ldx(32, R2, R1, 0),
      asm.ldx(32, R3, R1, 4),
      asm.mov64(R4, R2),
      asm.add64(R4, 1),
      asm.jmp("jgt", R4, R3, 3),
      asm.ldx(8, R0, R2, 0),
      asm.add64(R0, 1),
      asm.stx(8, R2, 0, R0),
      asm.exit(),
    ];
    const r = new VmProgram(insns, { type: ProgType.XDP }).run({
      data: new Uint8Array(14),
      repeat: 5,
    });
    assert.equal(r.dataOut[0], 5);
  });
});

describe("helpers the kernel cannot test-run here, with named expectations", () => {
  const kprobe = (insns: Instruction[], opts: ConstructorParameters<typeof VmProgram>[1] = {}) =>
    new VmProgram(insns, { type: ProgType.KPROBE, ...opts });
  const ctx = new Uint8Array(168);

  test("trace_vprintk formats an array of u64 arguments", () => {
    const insns = [
      asm.st(64, R10, -40, 7),
      asm.st(64, R10, -32, -1),
      ...stackString("a=%d b=%lx"),
      asm.mov64(R3, R10),
      asm.add64(R3, -40),
      asm.mov64(R4, 16),
      asm.call("trace_vprintk"),
      asm.exit(),
    ];
    const r = new VmProgram(insns).run();
    assert.deepEqual(r.printk, ["a=7 b=ffffffffffffffff"]);
    assert.equal(r.r0, BigInt("a=7 b=ffffffffffffffff".length));
    const bad = [...stackString("x"), asm.mov64(R3, R10), asm.add64(R3, -8), asm.mov64(R4, 12)];
    assert.equal(
      BigInt.asIntN(64, new VmProgram([...bad, asm.call("trace_vprintk"), asm.exit()]).run().r0),
      -22n,
      "data_len not a multiple of 8: -EINVAL",
    );
  });

  test("spin_lock/spin_unlock: a flag; taking a held lock is a deadlock", () => {
    const lockTwice = [
      asm.st(32, R10, -8, 0),
      asm.mov64(R1, R10),
      asm.add64(R1, -8),
      asm.call("spin_lock"),
      asm.mov64(R1, R10),
      asm.add64(R1, -8),
      asm.call("spin_lock"),
      asm.exit(),
    ];
    assert.throws(() => new VmProgram(lockTwice).run(), /already held \(deadlock\)/);
    const pair = [
      asm.st(32, R10, -8, 0),
      asm.mov64(R1, R10),
      asm.add64(R1, -8),
      asm.call("spin_lock"),
      asm.ldx(32, R0, R10, -8),
      asm.stx(64, R10, -16, R0),
      asm.mov64(R1, R10),
      asm.add64(R1, -8),
      asm.call("spin_unlock"),
      asm.ldx(32, R1, R10, -8),
      asm.ldx(64, R0, R10, -16),
      asm.lsh64(R0, 4),
      asm.or64(R0, R1),
      asm.exit(),
    ];
    assert.equal(new VmProgram(pair).run().r0, 0x10n, "held (1) inside, released (0) after");
    const unlockFree = [
      asm.st(32, R10, -8, 0),
      asm.mov64(R1, R10),
      asm.add64(R1, -8),
      asm.call("spin_unlock"),
      asm.exit(),
    ];
    assert.throws(() => new VmProgram(unlockFree).run(), /not held/);
  });

  test("get_stack copies the kernel (or user) stack of the run input", () => {
    const insns = [
      asm.mov64(R2, R10),
      asm.add64(R2, -32),
      asm.mov64(R3, 32),
      asm.mov64(R4, 1), // skip 1 frame
      asm.call("get_stack"),
      asm.ldx(64, R1, R10, -32),
      asm.add64(R0, R1),
      asm.exit(),
    ];
    const stack = { kernel: [0x100n, 0x200n, 0x300n], user: [0x7000n] };
    assert.equal(kprobe(insns).run({ ctx, stack }).r0, 16n + 0x200n, "2 frames after the skip");
    const user = insns.map((i, n) => (n === 3 ? asm.mov64(R4, 1 << 8) : i));
    assert.equal(kprobe(user).run({ ctx, stack }).r0, 8n + 0x7000n, "BPF_F_USER_STACK");
  });

  test("probe_read_kernel/user copy from the caller's memory, -EFAULT elsewhere", () => {
    const insns = (helper: string) => [
      asm.mov64(R1, R10),
      asm.add64(R1, -8),
      asm.mov64(R2, 8),
      asm.lddw(R3, 0xffff_8880_0000_1000n),
      asm.call(helper),
      asm.ldx(64, R1, R10, -8),
      asm.lsh64(R0, 32),
      asm.or64(R0, R1),
      asm.exit(),
    ];
    const probeMemory = [
      {
        address: 0xffff_8880_0000_0ffcn,
        bytes: Uint8Array.of(0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8),
        space: "kernel" as const,
      },
    ];
    assert.equal(
      kprobe(insns("probe_read_kernel")).run({ ctx, probeMemory }).r0,
      0x0807_0605_0403_0201n,
      "returns 0; the 8 bytes at the address",
    );
    const user =
      BigInt.asIntN(64, kprobe(insns("probe_read_user")).run({ ctx, probeMemory }).r0) >> 32n;
    assert.equal(user, -14n, "kernel memory through probe_read_user: -EFAULT");
    assert.equal(
      BigInt.asIntN(64, kprobe(insns("probe_read_kernel")).run({ ctx }).r0) >> 32n,
      -14n,
    );
  });

  test("get_current_uid_gid is gid << 32 | uid; get_current_task the given address", () => {
    const task = { uid: 1000, gid: 100, task: 0xffff_8880_1234_0000n };
    assert.equal(
      kprobe([asm.call("get_current_uid_gid"), asm.exit()]).run({ ctx, task }).r0,
      (100n << 32n) | 1000n,
    );
    assert.equal(
      kprobe([asm.call("get_current_task"), asm.exit()]).run({ ctx, task }).r0,
      task.task,
    );
    assert.equal(kprobe([asm.call("get_current_task"), asm.exit()]).run({ ctx }).r0, 0n);
  });

  test("ktime boot/coarse read the clock; jiffies64 is the clock at HZ=250", () => {
    const clock = () => 1_000_000_123n;
    for (const h of ["ktime_get_boot_ns", "ktime_get_coarse_ns", "ktime_get_ns"])
      assert.equal(new VmProgram([asm.call(h), asm.exit()], { clock }).run().r0, 1_000_000_123n, h);
    assert.equal(new VmProgram([asm.call("jiffies64"), asm.exit()], { clock }).run().r0, 250n);
  });
});
