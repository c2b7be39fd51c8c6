/**
 * The VM as a sandbox (issue 9): a program, even one the verifier never saw, cannot
 * escape its run's budget and call depth, nor touch memory that is not its own. Each
 * test reproduces one hostile program and expects a typed error (or the right result)
 * that names the limit it met; a program that escaped its budget would hang, and fail
 * on the test runner's timeout.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  asm,
  type Instruction,
  InvalidInstructionError,
  R0,
  R1,
  R2,
  R3,
  R4,
  R6,
  R10,
} from "../src/isa/index.ts";
import { MapIterationAbortedError } from "../src/spec/index.ts";
import { MapType } from "../src/uapi/index.ts";
import {
  VmArrayMap,
  VmError,
  VmHashMap,
  VmMemory,
  VmProgArray,
  VmProgram,
  VmRingBuf,
} from "../src/vm/index.ts";
import { mapRegion } from "../src/vm/run-env.ts";

/** Runs `fn`; returns its value or its exception. */
function outcome<T>(fn: () => T): T | unknown {
  try {
    return fn();
  } catch (e) {
    return e;
  }
}

function isVmError(e: unknown, re: RegExp): boolean {
  return e instanceof VmError && re.test(e.message);
}

describe("frame pointer and budgets", () => {
  test("a write to r10 is refused at construction, naming the instruction", () => {
    // The program: r10 = 0, then a bpf_loop whose callback ran as a fresh run.
    const prog = [
      asm.mov64(R10, 0),
      asm.mov64(R1, 1),
      asm.ldFunc(R2, 6),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("loop"),
      asm.ja(-8),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    const e = outcome(() => new VmProgram(prog));
    assert.ok(isVmError(e, /r10 is the frame pointer and is read-only/), String(e));
    assert.equal((e as VmError).pc, 0);
    assert.equal((e as VmError).instruction, "(b7) r10 = 0");
  });
  test("every instruction form that writes r10 is refused", () => {
    const writers: Instruction[] = [
      asm.add64(R10, 8),
      asm.mov32(R10, R1),
      asm.ldx(64, R10, R1, 0),
      asm.lddw(R10, 1n),
      asm.atomic("add", 64, R1, 0, R10, true),
      asm.atomic("xchg", 64, R1, 0, R10, true),
    ];
    for (const w of writers)
      assert.throws(
        () => new VmProgram([w, asm.exit()]),
        (e: unknown) => isVmError(e, /read-only/) && (e as VmError).pc === 0,
        `${w.kind} ${w.code}`,
      );
    // Stores through r10 and reading it are fine.
    const ok = new VmProgram([
      asm.st(64, R10, -8, 7),
      asm.ldx(64, R0, R10, -8),
      asm.atomic("add", 64, R10, -8, R1),
      asm.exit(),
    ]);
    assert.equal(ok.run().r0, 7n);
  });
  test("a callback that calls bpf_loop with itself stops at the frame limit", () => {
    const prog = [
      asm.mov64(R1, 1),
      asm.ldFunc(R2, 5),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("loop"),
      asm.exit(),
      // the callback, slot 7
      asm.mov64(R1, 1),
      asm.ldFunc(R2, -2),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("loop"),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    const e = outcome(() => new VmProgram(prog).run());
    assert.ok(isVmError(e, /too many nested calls/), String(e));
  });
  test("callbacks count against the run's instruction budget", () => {
    // bpf_loop(1000, cb) where cb runs 3 instructions: over a budget of 2000.
    const prog = [
      asm.mov64(R1, 1000),
      asm.ldFunc(R2, 5),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("loop"),
      asm.exit(),
      asm.mov64(R0, 0),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    const e = outcome(() => new VmProgram(prog, { budget: 2000 }).run());
    assert.ok(isVmError(e, /budget of 2000 exhausted/), String(e));
    const ok = new VmProgram(prog, { budget: 4000 }).run();
    assert.equal(ok.r0, 1000n);
    assert.equal(ok.instructions, 6 + 3000);
  });
  test("a self tail call stops after 33 tail calls", () => {
    const memory = new VmMemory();
    const jt = new VmProgArray<VmProgram>({
      name: "jt",
      type: MapType.PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
    });
    // r7 counts the runs in the stack... registers are kept across tail calls: r6 counts.
    const p = new VmProgram(
      [
        asm.add64(R6, 1),
        asm.ldMapFd(R2, 0),
        asm.mov64(R3, 0),
        asm.call(12),
        asm.mov64(R0, R6),
        asm.exit(),
      ],
      { memory, maps: [jt] },
    );
    jt.set(0, p);
    const r = outcome(() => p.run());
    assert.equal((r as { r0: bigint }).r0, 34n);
    // A loop around the failing tail call ends with the budget, not a hang.
    const loop = new VmProgram(
      [asm.ldMapFd(R2, 0), asm.mov64(R3, 0), asm.call(12), asm.ja(-5), asm.exit()],
      // (A budget of 10 million: 100 million takes 0.4 s on an idle machine, more on a busy one.)
      { memory, maps: [jt], budget: 10_000_000 },
    );
    jt.set(0, loop);
    const e = outcome(() => loop.run());
    assert.ok(isVmError(e, /budget of 10000000 exhausted/), String(e));
  });
});

describe("hand-built instructions are validated", () => {
  const bad: [string, Instruction, RegExp][] = [
    ["dst: 12", { ...asm.mov64(R0, 1), dst: 12 } as Instruction, /dst register r12/],
    ["src: 11", { ...asm.mov64(R0, R1), src: 11 } as Instruction, /src register r11/],
    [
      "a 1-byte atomic add",
      { ...asm.atomic("add", 32, R1, 0, R2), code: 0xd3 } as Instruction,
      /atomic add exists only for 32- and 64-bit/,
    ],
    [
      "a kind that disagrees with the opcode",
      { ...asm.mov64(R0, 1), kind: "exit" } as Instruction,
      /encode a alu instruction/,
    ],
    ["an offset that does not fit", { ...asm.ja(0), off: 70000 } as Instruction, /offset 70000/],
  ];
  for (const [what, insn, re] of bad)
    test(what, () =>
      assert.throws(
        () => new VmProgram([asm.mov64(R6, 0), insn, asm.exit()]),
        (e: unknown) => e instanceof InvalidInstructionError && e.index === 1 && re.test(e.message),
      ),
    );
});

describe("confinement per program", () => {
  const arrayOf = (name: string, maxEntries = 4, valueSize = 16) =>
    new VmArrayMap({ name, type: MapType.ARRAY, keySize: 4, valueSize, maxEntries });

  /** Two programs in one space: `owner` references `secret`; the other forges its address. */
  function twoPrograms(forger: (secretAddr: bigint) => Instruction[]) {
    const memory = new VmMemory();
    const secret = arrayOf("secret");
    secret.update(new Uint8Array(4), new Uint8Array(16).fill(0x5a));
    const owner = new VmProgram([asm.ldMapFd(R1, 0), asm.mov64(R0, 0), asm.exit()], {
      memory,
      maps: [secret],
    });
    owner.run();
    const addr = memory.address(mapRegion(memory, secret), 0);
    const thief = new VmProgram(forger(addr), { memory });
    return { memory, secret, thief };
  }

  test("a forged lddw constant into another program's map faults, naming the region", () => {
    const { thief } = twoPrograms((a) => [asm.lddw(R1, a), asm.ldx(64, R0, R1, 0), asm.exit()]);
    const e = outcome(() => thief.run());
    assert.ok(isVmError(e, /invalid read of 8 bytes at 0x[0-9a-f]+: .*map secret/), String(e));
    assert.ok(isVmError(e, /not a region of this program/), String(e));
  });
  test("a forged write into another program's map faults and changes nothing", () => {
    const { thief, secret } = twoPrograms((a) => [
      asm.lddw(R1, a),
      asm.st(64, R1, 0, 0),
      asm.exit(),
    ]);
    assert.ok(
      isVmError(
        outcome(() => thief.run()),
        /invalid write/,
      ),
    );
    assert.deepEqual(secret.lookup(new Uint8Array(4)), new Uint8Array(16).fill(0x5a));
  });
  test("a forged map handle is not a map of this program", () => {
    const { thief } = twoPrograms((a) => [
      asm.lddw(R1, a),
      asm.mov64(R2, R10),
      asm.add64(R2, -4),
      asm.st(32, R10, -4, 0),
      asm.call("map_lookup_elem"),
      asm.exit(),
    ]);
    assert.ok(
      isVmError(
        outcome(() => thief.run()),
        /is not a map of this program/,
      ),
    );
  });
  for (const kind of ["array", "hash"] as const)
    test(`a ${kind} value pointer + value_size does not reach the next entry`, () => {
      const map =
        kind === "array"
          ? arrayOf("m")
          : new VmHashMap({
              name: "m",
              type: MapType.HASH,
              keySize: 4,
              valueSize: 16,
              maxEntries: 4,
            });
      for (let k = 0; k < 2; k++)
        map.update(new Uint8Array([k, 0, 0, 0]), new Uint8Array(16).fill(k + 1));
      const lookup0 = (off: number, size: 8 | 64 = 64) => [
        asm.ldMapFd(R1, 0),
        asm.mov64(R2, R10),
        asm.add64(R2, -4),
        asm.st(32, R10, -4, 0),
        asm.call("map_lookup_elem"),
        asm.jmp("jeq", R0, 0, 1),
        asm.ldx(size, R0, R0, off),
        asm.exit(),
      ];
      // Inside the value: fine. Past it: a fault naming the window on the map.
      assert.equal(new VmProgram(lookup0(8), { maps: [map] }).run().r0, 0x0101010101010101n);
      const e = outcome(() => new VmProgram(lookup0(16), { maps: [map] }).run());
      assert.ok(isVmError(e, /invalid read of 8 bytes at .*map m bytes/), String(e));
      const e2 = outcome(() => new VmProgram(lookup0(-1, 8), { maps: [map] }).run());
      assert.ok(isVmError(e2, /invalid read of 1 bytes/), String(e2));
    });
  test("a for_each_map_elem callback's value + value_size faults too", () => {
    const map = arrayOf("m");
    // for_each(map, cb): cb reads *(u64 *)(value + off)
    const prog = (off: number) => [
      asm.ldMapFd(R1, 0),
      asm.ldFunc(R2, 5),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("for_each_map_elem"),
      asm.exit(),
      asm.ldx(64, R0, R3, off),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    assert.equal(new VmProgram(prog(8), { maps: [map] }).run().r0, 4n);
    const e = outcome(() => new VmProgram(prog(16), { maps: [map] }).run());
    assert.ok(isVmError(e, /invalid read of 8 bytes .*map m bytes 0\.\.16/), String(e));
  });
  test("r10 + 2^32 does not reach another stack frame", () => {
    const prog = [
      asm.mov64(R1, R10),
      asm.lddw(R2, 1n << 32n),
      asm.alu64("add", R1, R2),
      asm.st(64, R1, -8, 1),
      asm.exit(),
    ];
    const e = outcome(() => new VmProgram(prog).run());
    assert.ok(isVmError(e, /invalid write of 8 bytes .*stack frame 1 \(no bytes open/), String(e));
    // A callee still reads its caller's frame through a pointer it was given.
    const call = [
      asm.st(64, R10, -8, 42),
      asm.mov64(R1, R10),
      asm.add64(R1, -8),
      asm.callBpf(1),
      asm.exit(),
      asm.ldx(64, R0, R1, 0),
      asm.exit(),
    ];
    assert.equal(new VmProgram(call).run().r0, 42n);
    // ... but once the callee returned, its frame is closed to the caller.
    const dead = [
      asm.callBpf(4),
      asm.lddw(R1, 1n << 32n),
      asm.alu64("add", R1, R10),
      asm.ldx(64, R0, R1, -8),
      asm.exit(),
      asm.st(64, R10, -8, 7),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    assert.ok(
      isVmError(
        outcome(() => new VmProgram(dead).run()),
        /stack frame 1/,
      ),
    );
  });
  test("unaligned atomics fault", () => {
    for (const [size, off] of [
      [64, -12],
      [32, -6],
    ] as const) {
      const prog = [asm.mov64(R1, 1), asm.atomic("add", size, R10, off, R1), asm.exit()];
      const e = outcome(() => new VmProgram(prog).run());
      assert.ok(isVmError(e, /misaligned atomic access/), String(e));
    }
    const ok = [
      asm.st(64, R10, -16, 1),
      asm.mov64(R1, 2),
      asm.atomic("add", 64, R10, -16, R1),
      asm.ldx(64, R0, R10, -16),
      asm.exit(),
    ];
    assert.equal(new VmProgram(ok).run().r0, 3n);
  });
  test("ring buffer headers are out of a program's reach; available never goes negative", () => {
    const newRing = () =>
      new VmRingBuf({
        name: "rb",
        type: MapType.RINGBUF,
        keySize: 0,
        valueSize: 0,
        maxEntries: 4096,
      });
    let rb = newRing();
    // reserve 16 bytes, write a fake length into the header (ptr - 8), submit.
    const prog = (hdrWrite: Instruction[]) => [
      asm.ldMapFd(R1, 0),
      asm.mov64(R2, 16),
      asm.mov64(R3, 0),
      asm.call("ringbuf_reserve"),
      asm.jmp("jne", R0, 0, 2),
      asm.mov64(R0, 1),
      asm.exit(),
      asm.mov64(R6, R0),
      ...hdrWrite,
      asm.st(64, R6, 8, 7),
      asm.mov64(R1, R6),
      asm.mov64(R2, 0),
      asm.call("ringbuf_submit"),
      asm.mov64(R0, 0),
      asm.exit(),
    ];
    const hostile = new VmProgram(prog([asm.st(32, R6, -8, 0x3fff_fff0)]), { maps: [rb] });
    const e = outcome(() => hostile.run());
    assert.ok(isVmError(e, /invalid write of 4 bytes .*map rb bytes 8\.\.24/), String(e));
    // A forged address into the ring's data (the header, through the map handle) faults too.
    const forged = new VmProgram(
      [asm.ldMapFd(R1, 0), asm.st(32, R1, 0, 0x3fff_fff0), asm.mov64(R0, 0), asm.exit()],
      { maps: [rb] },
    );
    assert.ok(
      isVmError(
        outcome(() => forged.run()),
        /no bytes open to this program/,
      ),
    );
    // A well-behaved record: written, submitted, read; the record's pointer is closed after submit.
    // (A fresh ring: the hostile run left its record reserved, which blocks a reader.)
    rb = newRing();
    const good = new VmProgram(prog([]), { maps: [rb] });
    assert.equal(good.run().r0, 0n);
    assert.ok(rb.available >= 0);
    const recs = [...rb.drain()];
    assert.equal(recs.length, 1);
    assert.equal(rb.available, 0);
    const late = new VmProgram(
      prog([asm.mov64(R1, R6), asm.mov64(R2, 0), asm.call("ringbuf_submit")]),
      { maps: [rb] },
    );
    assert.ok(
      isVmError(
        outcome(() => late.run()),
        /invalid write of 8 bytes/,
      ),
    );
    // Even with a header corrupted from JavaScript, available stays >= 0.
    const r2 = new VmProgram(prog([]), { maps: [rb] });
    r2.run();
    new DataView(rb.data.buffer).setUint32(rb.consumerPos & 4095, 0x3fff_fff0, true);
    try {
      [...rb.drain()];
    } catch {}
    assert.ok(rb.available >= 0, `available ${rb.available}`);
  });
  test("a callback address of another program is not a function of this one", () => {
    const memory = new VmMemory();
    const other = new VmProgram([asm.ldFunc(R2, 1), asm.exit(), asm.mov64(R0, 0), asm.exit()], {
      memory,
    });
    other.run();
    // The other program's callback region: the one region named "program code".
    const id = memory.names.indexOf("program code");
    const prog = [
      asm.mov64(R1, 1),
      asm.lddw(R2, memory.address(id, 3)),
      asm.mov64(R3, 0),
      asm.mov64(R4, 0),
      asm.call("loop"),
      asm.exit(),
    ];
    const e = outcome(() => new VmProgram(prog, { memory }).run());
    assert.ok(isVmError(e, /is not the address of a function of the program/), String(e));
  });
});

describe("map memory", () => {
  test("maps dropped inside one synchronous loop do not stay alive until it ends", () => {
    // 1,500 maps of 1 MiB: about 1.5 GiB if each stayed alive until the loop yields.
    const before = process.memoryUsage().rss;
    let peak = before;
    for (let i = 0; i < 1500; i++) {
      const m = new VmArrayMap({
        name: "big",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 1024,
        maxEntries: 1024,
      });
      m.values.fill(1); // every page resident
      if (i % 100 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const grew = (peak - before) / 2 ** 20;
    assert.ok(grew < 800, `RSS grew ${grew.toFixed(0)} MiB`);
  });
});

describe("map walks", () => {
  test("entries() over a map that keeps changing ends with MapIterationAbortedError", () => {
    const map = new VmHashMap({
      name: "churn",
      type: MapType.HASH,
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
    });
    const key = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
    for (let i = 0; i < 4; i++) map.update(key(i), key(i));
    let next = 4;
    const e = outcome(() => {
      // Each step replaces the key it stands on with a new one: the walk never ends by itself.
      for (const [k] of map.entries()) {
        map.delete(k);
        map.update(key(next), key(next));
        next++;
      }
    });
    assert.ok(e instanceof MapIterationAbortedError, String(e));
    assert.match((e as Error).message, /hash map "churn".*walk aborted after 4 keys/);
    // Deleting the current key inside a walk still visits every key once.
    const seen: number[] = [];
    for (const k of map.keys()) {
      seen.push(new DataView(k.buffer).getUint32(0, true));
      map.delete(k);
    }
    assert.equal(seen.length, 4);
    assert.equal([...map.keys()].length, 0);
  });
});
