/**
 * Collection.load against the kernel: CO-RE objects (task_struct fields read in the
 * test's own thread, context structs relocated, enum values, a poisoned relocation and
 * the error naming it), externs, the ELF loader's test objects (global data, variables
 * through mmap, constants rewritten, map-in-map and program-array slots, legacy maps),
 * pinning by name (reuse and mismatch), map replacements, and a failure mid-load that
 * leaves nothing behind. The relocated programs are compared, instruction for
 * instruction, with what libbpf (bpftool prog loadall) makes of the same objects: the
 * kernel's xlated dumps of both, map ids replaced by map names.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import {
  BpfMap,
  Collection,
  CoreRelocationUnsatisfiedError,
  ExternError,
  ensureBpffs,
  loadCollection,
  VerifierError,
  vmlinuxBTF,
} from "../src/kernel/index.ts";
import type { CollectionSpec } from "../src/spec/index.ts";
import { MapType } from "../src/uapi/index.ts";
import { assertNoLeak } from "./leak-check.ts";
import { kernelSkip, kfuncSkip } from "./support/kernel.ts";

const root = !kernelSkip;
const skip = kernelSkip;
const CORE = join(import.meta.dirname, "testdata/core");
const ELF = join(import.meta.dirname, "testdata/elf");
const BPFFS = "/sys/fs/bpf";

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const specOf = (path: string): CollectionSpec =>
  loadCollectionSpec(new Uint8Array(readFileSync(path)));
/** Runs a raw_tp program once in this thread (raw_tp test runs take no repeat). */
const runRawTp = (c: Collection, name: string) =>
  c.program(name).run({ ctx: new Uint8Array(16), ctxOutSize: 0, repeat: 0 });

function withCollection(path: string, fn: (c: Collection) => void, opts = {}): void {
  assertNoLeak(() => {
    const c = loadCollection(path, opts);
    try {
      fn(c);
    } finally {
      c.close();
    }
  });
}

let pinDir = "";
before(() => {
  if (!root) return;
  ensureBpffs(BPFFS);
  pinDir = mkdtempSync(join(BPFFS, "tsbpf-coll-"));
});
after(() => {
  if (pinDir) rmSync(pinDir, { recursive: true, force: true });
});

describe("CO-RE in the kernel", { skip }, () => {
  test("task_struct fields of the calling thread, existence, enums, sizes", () => {
    withCollection(join(CORE, "task.bpf.o"), (c) => {
      assert.equal(runRawTp(c, "read_task").retval, 0);
      const v = (n: string) => c.variables[n]!.toBigInt();
      assert.equal(v("runs"), 1n);
      assert.equal(v("out_pid"), BigInt(process.pid), "BPF_CORE_READ(t, pid)");
      assert.equal(v("out_tgid"), BigInt(process.pid), "BPF_CORE_READ(t, tgid)");
      assert.equal(v("out_ppid"), BigInt(process.ppid), "BPF_CORE_READ(t, real_parent, tgid)");
      assert.equal(v("has_pid"), 1n);
      assert.equal(v("has_missing"), 0n, "task_struct has no no_such_field");
      assert.equal(v("missing_value"), 42n, "the guarded read took the else branch");
      assert.equal(v("pidtype_tgid"), 1n, "PIDTYPE_TGID___local (99 locally) is 1 in the kernel");
      assert.equal(v("has_pidtype_nope"), 0n);
      const task = vmlinuxBTF().findByName("STRUCT", "task_struct")!;
      assert.equal(v("task_size"), BigInt(task.size));
      assert.equal(v("type_missing"), 0n);
      // The poisoned load of no_such_field is dead code, removed by the verifier.
      const poisoned = c.core.read_task!.poisoned;
      assert.equal(poisoned.length, 1);
      assert.match(poisoned[0]!.resolution.description, /task_struct___missing\.no_such_field/);
    });
  });

  test("an unguarded read of a missing field: the error names the relocation", () => {
    assertNoLeak(() => {
      let err: unknown;
      try {
        loadCollection(join(CORE, "missing.bpf.o")).close();
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof CoreRelocationUnsatisfiedError, String(err));
      assert.ok(err instanceof VerifierError);
      assert.equal(err.programName, "read_missing");
      assert.match(
        err.relocation,
        /^field_byte_offset struct task_struct___missing\.no_such_field \(0:1\)$/,
      );
      assert.match(err.reason, /no struct 'task_struct' in the kernel's BTF \(1 candidate\)/);
      assert.match(err.message, new RegExp(`instruction ${err.insn} uses CO-RE relocation`));
      assert.equal(err.instruction, err.insn);
      assert.match(err.log, /invalid func unknown#195896080/);
    });
  });

  test("context structs relocated: xdp_md and __sk_buff through local flavours", () => {
    withCollection(join(CORE, "ctx.bpf.o"), (c) => {
      const xdp = c.program("xdp_core").run({ data: new Uint8Array(64) });
      assert.equal(xdp.retval, 2, "XDP_PASS___local (200 locally) is XDP_PASS (2)");
      assert.equal(c.variables.xdp_len!.toBigInt(), 64n, "data_end - data, fields swapped locally");
      assert.equal(c.variables.xdp_md_size!.toBigInt(), 24n, "sizeof(struct xdp_md) in the kernel");
      const packet = new Uint8Array(64);
      packet[12] = 0x86;
      packet[13] = 0xdd; // IPv6
      // skb->len: the test run pulls the 14-byte Ethernet header.
      assert.equal(c.program("skb_core").run({ data: packet }).retval, 50);
      assert.equal(c.variables.skb_protocol!.toBigInt(), 0xdd86n, "skb->protocol (network order)");
      assert.equal(c.variables.skb_has_nothing!.toBigInt(), 0n);
      // The 8-byte local ingress_ifindex became a 4-byte load (a u64 ctx load is refused).
      const res = c.core.xdp_core!.resolutions.find((r) => /ingress_ifindex/.test(r.description));
      assert.equal(res?.origSize, 8);
      assert.equal(res?.newSize, 4);
    });
  });

  // kconfig.bpf.o calls the kfuncs bpf_rcu_read_lock/unlock (Linux 6.2)
  const kconfigSkip = kernelSkip ? false : kfuncSkip("bpf_rcu_read_lock", "6.2");

  test("externs: kconfig values, a kallsyms address, kfuncs", { skip: kconfigSkip }, () => {
    withCollection(join(CORE, "kconfig.bpf.o"), (c) => {
      runRawTp(c, "read_externs");
      const v = (n: string) => c.variables[n]!.toBigInt();
      const m = /^(\d+)\.(\d+)\.(\d+)/.exec(readFileSync("/proc/sys/kernel/osrelease", "utf8"))!;
      const version = (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3]), 255);
      assert.equal(v("version"), BigInt(version));
      assert.equal(v("missing"), 0n, "a weak CONFIG_ the kernel lacks is 0");
      const config = configOptions();
      if (config) {
        assert.equal(v("hz"), BigInt(config.get("CONFIG_HZ") ?? "0"));
        assert.equal(v("bpf_syscall"), config.get("CONFIG_BPF_SYSCALL") === "y" ? 1n : 0n);
        const jit = config.get("CONFIG_BPF_JIT");
        assert.equal(v("jit"), jit === "y" ? 1n : jit === "m" ? 2n : 0n);
        const local = (config.get("CONFIG_LOCALVERSION") ?? '""').slice(1, -1);
        const got = new TextDecoder().decode(c.variables.localversion!.get()).replace(/\0.*$/s, "");
        assert.equal(got, local.slice(0, 15));
      }
      const sched = readFileSync("/proc/kallsyms", "latin1").match(/^([0-9a-f]+) [Tt] schedule$/m);
      assert.equal(v("schedule_addr"), BigInt(`0x${sched![1]}`));
      assert.equal(c.map(".kconfig").info().frozen, true, ".kconfig is frozen");
    });
  });

  test("an extern the kernel lacks fails the load by name", () => {
    // externs.bpf.o needs the variable bpf_prog_active (gone in 6.13) and the kfunc
    // bpf_rcu_read_lock (6.2): 6.1 lacks the kfunc, 6.13 and later the variable, and a
    // kernel with both (6.2 to 6.12) must load the object instead.
    const missing: string[] = [];
    if (!/^[0-9a-f]+ \S+ bpf_prog_active$/m.test(readFileSync("/proc/kallsyms", "latin1")))
      missing.push("bpf_prog_active");
    if (kfuncSkip("bpf_rcu_read_lock")) missing.push("bpf_rcu_read_lock");
    assertNoLeak(() => {
      if (missing.length === 0) {
        loadCollection(join(ELF, "externs.bpf.o")).close();
        return;
      }
      assert.throws(
        () => loadCollection(join(ELF, "externs.bpf.o")),
        (e: unknown) => e instanceof ExternError && missing.includes(e.extern),
      );
    });
  });
});

function configOptions(): Map<string, string> | undefined {
  try {
    const text = execFileSync(
      "sh",
      ["-c", "zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r)"],
      {
        encoding: "latin1",
        maxBuffer: 64 << 20,
      },
    );
    const m = new Map<string, string>();
    for (const line of text.split("\n")) {
      const i = line.indexOf("=");
      if (line.startsWith("CONFIG_") && i > 0) m.set(line.slice(0, i), line.slice(i + 1));
    }
    return m.size > 0 ? m : undefined;
  } catch {
    return undefined;
  }
}

describe("the ELF loader's objects as collections", { skip }, () => {
  test("xdp-maps: global data named like libbpf's, variables through mmap, .rodata frozen", () => {
    withCollection(
      join(ELF, "xdp-maps.bpf.o"),
      (c) => {
        assert.equal(c.map(".data").name, "xdp_maps.data");
        assert.equal(c.map(".rodata").name, "xdp_maps.rodata");
        assert.equal(c.map(".bss").name, "xdp_maps.bss");
        assert.equal(c.map(".rodata.banner").name, ".rodata.banner");
        assert.equal(c.map(".rodata").info().frozen, true);
        const seen = c.variables.packets_seen!;
        assert.ok(seen.memory, ".data is mmapable");
        assert.equal(seen.toBigInt(), 7n);
        seen.set(100n);
        assert.equal(c.program("xdp_count").run({ data: new Uint8Array(64) }).retval, 2);
        assert.equal(seen.toBigInt(), 101n, "the program saw the write and incremented it");
        assert.equal(c.variables.last_len!.toBigInt(), 64n);
        assert.equal(c.variables.drop_port!.toBigInt(), 53n);
        assert.throws(() => c.variables.drop_port!.set(1), /read-only.*constants/);
        assert.equal(c.program("xdp_count").run({ data: new Uint8Array(53) }).retval, 1);
        assert.equal(c.program("xdp_loop").run({ data: new Uint8Array(64) }).retval, 2);
        assert.equal(c.variables.tagged!.toBigInt(), 0x1122334455667789n);
      },
      { pinPath: pinDir },
    );
    rmSync(join(pinDir, "stats"), { force: true });
  });

  test("constants rewrite .rodata before the verifier sees it", () => {
    withCollection(
      join(ELF, "xdp-maps.bpf.o"),
      (c) => {
        assert.equal(c.variables.drop_port!.toBigInt(), 64n);
        assert.equal(c.program("xdp_count").run({ data: new Uint8Array(64) }).retval, 1);
        assert.equal(c.program("xdp_count").run({ data: new Uint8Array(53) }).retval, 2);
      },
      { pinPath: pinDir, constants: { drop_port: 64 } },
    );
    rmSync(join(pinDir, "stats"), { force: true });
    const spec = specOf(join(ELF, "xdp-maps.bpf.o"));
    assertNoLeak(() => {
      assert.throws(
        () => Collection.load(spec, { constants: { nope: 1 } }),
        /no such variable.*drop_port/,
      );
      assert.throws(
        () => Collection.load(spec, { constants: { packets_seen: 1 } }),
        /not \.rodata/,
      );
      assert.throws(
        () => Collection.load(spec, { constants: { drop_port: 1n << 40n } }),
        /does not fit in 4 bytes/,
      );
    });
  });

  test("map-in-map: inner map slots filled at creation, program array slots after loading", () => {
    withCollection(join(ELF, "map-in-map.bpf.o"), (c) => {
      c.map("inner_a").update(u32(0), u32(42));
      assert.equal(c.program("entry").run({ data: new Uint8Array(64) }).retval, 42);
      c.map("outer").delete(u32(0));
      assert.equal(
        c.program("entry").run({ data: new Uint8Array(64) }).retval,
        1,
        "jumps[1] = tail_a",
      );
      assert.equal(c.map("outer").lookup(u32(2)) !== undefined, true, "outer[2] = inner_b");
    });
  });

  test("legacy maps", () => {
    withCollection(join(ELF, "legacy.bpf.o"), (c) => {
      const packet = new Uint8Array(64);
      packet[12] = 0x08;
      c.map("legacy_hash").update(u32(0x0008), new Uint8Array(8));
      assert.equal(c.program("sock_filter").run({ data: packet }).retval, 50);
      assert.deepEqual(
        c.map("legacy_hash").lookup(u32(0x0008)),
        new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]),
      );
    });
  });

  test("pinning by name: a second load reuses the pinned map; a mismatch is refused by field", () => {
    const path = join(pinDir, "stats");
    try {
      assertNoLeak(() => {
        const a = loadCollection(join(ELF, "xdp-maps.bpf.o"), { pinPath: pinDir });
        try {
          assert.ok(existsSync(path));
          a.map("stats").update(u32(3), new Uint8Array(16).fill(7));
          const b = loadCollection(join(ELF, "xdp-maps.bpf.o"), { pinPath: pinDir });
          try {
            assert.equal(b.map("stats").info().id, a.map("stats").info().id, "same map");
            assert.deepEqual(b.map("stats").lookup(u32(3)), new Uint8Array(16).fill(7));
          } finally {
            b.close();
          }
        } finally {
          a.close();
        }
        assert.ok(existsSync(path), "the pin outlives the collections");
      });
      rmSync(path);
      assertNoLeak(() => {
        const other = BpfMap.create({
          name: "stats",
          type: MapType.ARRAY,
          keySize: 4,
          valueSize: 16,
          maxEntries: 8,
        });
        other.pin(path);
        other.close();
        assert.throws(
          () => loadCollection(join(ELF, "xdp-maps.bpf.o"), { pinPath: pinDir }),
          /map pinned at .*stats does not match spec "stats": maxEntries is 8, the spec says 4/,
        );
      });
      assert.ok(existsSync(path), "a map pinned by someone else stays pinned");
    } finally {
      rmSync(path, { force: true });
    }
  });

  test("map replacements: an existing map stands in and is not closed", () => {
    const counts = BpfMap.create({
      name: "counts",
      type: MapType.HASH,
      keySize: 4,
      valueSize: 8,
      maxEntries: 1024,
      flags: 1, // BPF_F_NO_PREALLOC
    });
    try {
      withCollection(
        join(ELF, "xdp-maps.bpf.o"),
        (c) => {
          assert.equal(c.map("counts"), counts);
          c.program("xdp_count").run({ data: new Uint8Array(64) });
        },
        { pinPath: pinDir, mapReplacements: { counts } },
      );
      assert.equal(counts.closed, false);
      assert.deepEqual(counts.lookup(u32(64)), new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
      assert.throws(
        () =>
          loadCollection(join(ELF, "legacy.bpf.o"), { mapReplacements: { legacy_hash: counts } }),
        /replacement map does not match spec "legacy_hash": maxEntries is 1024, the spec says 16/,
      );
    } finally {
      counts.close();
      rmSync(join(pinDir, "stats"), { force: true });
    }
  });

  test("a failure mid-load closes everything and unpins what it pinned", () => {
    const spec = specOf(join(ELF, "xdp-maps.bpf.o"));
    // The last program becomes `exit` without setting r0: rejected after every map
    // and the first programs exist.
    const bad = new Uint8Array([0x95, 0, 0, 0, 0, 0, 0, 0]);
    const broken: CollectionSpec = {
      ...spec,
      programs: {
        ...spec.programs,
        xdp_frags_prog: {
          ...spec.programs.xdp_frags_prog!,
          instructions: bad,
          references: [],
          btf: undefined,
        },
      },
    };
    assertNoLeak(() => {
      assert.throws(
        () => Collection.load(broken, { pinPath: pinDir }),
        (e: unknown) => e instanceof VerifierError && /R0 !read_ok/.test(e.message),
      );
    });
    assert.equal(
      existsSync(join(pinDir, "stats")),
      false,
      "the pin made by the failed load is gone",
    );
  });
});

// ---- libbpf as the reference ----------------------------------------------------------

/** `bpftool prog dump xlated` with map ids replaced by map names. */
function xlated(progId: number): string {
  const text = execFileSync("bpftool", ["prog", "dump", "xlated", "id", String(progId)], {
    encoding: "utf8",
  });
  const names = new Map<string, string>();
  return text.replace(/map\[id:(\d+)\]/g, (_, id: string) => {
    let n = names.get(id);
    if (n === undefined) {
      const info = JSON.parse(
        execFileSync("bpftool", ["-j", "map", "show", "id", id], { encoding: "utf8" }),
      ) as { name: string };
      n = info.name;
      names.set(id, n);
    }
    return `map[${n}]`;
  });
}

function libbpfLoadAll(obj: string, dir: string): Map<string, number> {
  execFileSync("bpftool", ["prog", "loadall", obj, dir], { stdio: ["ignore", "ignore", "pipe"] });
  const out = new Map<string, number>();
  for (const name of readdirSync(dir)) {
    const info = JSON.parse(
      execFileSync("bpftool", ["-j", "prog", "show", "pinned", join(dir, name)], {
        encoding: "utf8",
      }),
    ) as { id: number; name: string };
    out.set(name, info.id);
  }
  return out;
}

const hasBpftool = (() => {
  try {
    execFileSync("bpftool", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("relocated programs are the ones libbpf makes", {
  skip: skip || (!hasBpftool && "needs bpftool"),
}, () => {
  for (const [dir, file] of [
    [CORE, "task.bpf.o"],
    [CORE, "ctx.bpf.o"],
    [CORE, "kconfig.bpf.o"],
    // (legacy.bpf.o is left out: libbpf 1.x refuses legacy `maps` sections.)
    [ELF, "map-in-map.bpf.o"],
    [ELF, "xdp-maps.bpf.o"],
  ] as const) {
    const kfuncs = file === "kconfig.bpf.o" && !skip && kfuncSkip("bpf_rcu_read_lock", "6.2");
    test(`${file}: xlated instructions equal bpftool prog loadall's`, { skip: kfuncs }, () => {
      const obj = join(dir, file);
      const progDir = mkdtempSync(join(BPFFS, "tsbpf-libbpf-"));
      // bpftool pins LIBBPF_PIN_BY_NAME maps (xdp-maps' "stats") under /sys/fs/bpf.
      const statsPinned = existsSync(join(BPFFS, "stats"));
      try {
        const theirs = libbpfLoadAll(obj, progDir);
        withCollection(
          obj,
          (c) => {
            assert.deepEqual(
              [...theirs.keys()].sort(),
              Object.keys(c.programs).sort(),
              "same programs",
            );
            for (const [name, id] of theirs) {
              assert.equal(xlated(c.program(name).id), xlated(id), `program ${name}`);
            }
          },
          { pinPath: pinDir },
        );
      } finally {
        rmSync(progDir, { recursive: true, force: true });
        if (!statsPinned) rmSync(join(BPFFS, "stats"), { force: true });
        rmSync(join(pinDir, "stats"), { force: true });
      }
    });
  }
});
