/**
 * `tsbpf prog load|loadall` for ELF objects and `tsbpf prog tracelog`, side by side with
 * bpftool 7.1: the same objects loaded by both, then what each created compared through
 * bpftool itself (`prog show`, `prog dump xlated`, `map show` of every pin). Everything is
 * pinned in a temporary bpffs directory removed in `finally`; in-process runs must not
 * leak a descriptor. bpftool 7.1 has no `autoattach`: tsbpf's is checked against the
 * kernel (link show, counters that move, links gone once unpinned).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { bpftool, compareSkip, fdSnapshot, pinDir, type Run, tsbpf } from "./cli-run.ts";

const ROOT = resolve(import.meta.dirname, "..");
const OBJECTS = ["hello", "trace-open", "trace-open-ringbuf", "core-task", "open-load-attach"].map(
  (n) => join(ROOT, "examples", n, `${n}.bpf.o`),
);
const skip = compareSkip;

type Json = Record<string, unknown>;

function json(...args: string[]): Json {
  const r = bpftool("-j", ...args);
  assert.equal(r.code, 0, `bpftool ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Json;
}

/** What must be equal between two loads of the same program. */
function progSummary(path: string): Json {
  const p = json("prog", "show", "pinned", path);
  return {
    type: p.type,
    name: p.name,
    tag: p.tag,
    gpl_compatible: p.gpl_compatible,
    bytes_xlated: p.bytes_xlated,
    jited: p.jited,
    bytes_jited: p.bytes_jited,
    bytes_memlock: p.bytes_memlock,
    maps: (p.map_ids as number[] | undefined)?.length ?? 0,
    btf: p.btf_id !== undefined,
  };
}

/** `prog dump xlated` with map ids (which differ between loads) hidden. */
function xlated(path: string): string {
  const r = bpftool("prog", "dump", "xlated", "pinned", path);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.replace(/map\[id:\d+\]/g, "map[id:X]");
}

/** What must be equal between two creations of the same map. */
function mapSummary(path: string): Json {
  const m = json("map", "show", "pinned", path);
  const { id: _id, btf_id, pinned: _p, ...rest } = m;
  return { ...rest, btf: btf_id !== undefined };
}

test("prog loadall OBJ DIR pinmaps MAP_DIR: same programs and maps as bpftool's", {
  skip,
}, async () => {
  const pins = pinDir("prog-elf-loadall");
  const before = fdSnapshot();
  try {
    for (const obj of OBJECTS) {
      const name = obj.split("/").at(-1)!.replace(/\..*/, "").replace(/-/g, "_");
      const [tp, tm, bp, bm] = ["tp", "tm", "bp", "bm"].map((d) => join(pins.dir, `${name}_${d}`));
      const t = await tsbpf("prog", "loadall", obj, tp!, "pinmaps", tm!);
      const b = bpftool("prog", "loadall", obj, bp!, "pinmaps", bm!);
      assert.equal(t.code, 0, t.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(t.stdout, b.stdout);
      assert.deepEqual(readdirSync(tp!).sort(), readdirSync(bp!).sort(), `${obj}: programs pinned`);
      assert.deepEqual(readdirSync(tm!).sort(), readdirSync(bm!).sort(), `${obj}: maps pinned`);
      for (const p of readdirSync(bp!)) {
        assert.deepEqual(progSummary(join(tp!, p)), progSummary(join(bp!, p)), `${obj}: ${p}`);
        assert.equal(xlated(join(tp!, p)), xlated(join(bp!, p)), `${obj}: ${p} xlated`);
      }
      for (const m of readdirSync(bm!)) {
        assert.deepEqual(mapSummary(join(tm!, m)), mapSummary(join(bm!, m)), `${obj}: map ${m}`);
      }
      // -j prints null, as bpftool does.
      const j = await tsbpf("-j", "prog", "loadall", obj, `${tp}_j`);
      const bj = bpftool("-j", "prog", "loadall", obj, `${bp}_j`);
      assert.equal(j.stdout, bj.stdout);
      assert.equal(j.code, 0);
    }
  } finally {
    pins.cleanup();
  }
  assert.deepEqual(fdSnapshot(), before);
});

test("prog load OBJ PATH: every program loaded, the first one pinned, as bpftool", {
  skip,
}, async () => {
  const pins = pinDir("prog-elf-load");
  const before = fdSnapshot();
  try {
    const obj = OBJECTS[4]!; // open-load-attach: three programs
    const t = await tsbpf("prog", "load", obj, join(pins.dir, "t"));
    const b = bpftool("prog", "load", obj, join(pins.dir, "b"));
    assert.equal(t.code, 0, t.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(progSummary(join(pins.dir, "t")), progSummary(join(pins.dir, "b")));
    assert.equal(progSummary(join(pins.dir, "t")).name, "count_openat");
    assert.deepEqual(readdirSync(pins.dir).sort(), ["b", "t"]);
  } finally {
    pins.cleanup();
  }
  assert.deepEqual(fdSnapshot(), before);
});

test("prog load of an object the kernel refuses: the API's detail, bpftool's exit status", {
  skip,
}, async () => {
  const pins = pinDir("prog-elf-bad");
  const before = fdSnapshot();
  try {
    const obj = join(import.meta.dirname, "testdata/cli/bad-map-flags.bpf.o");
    const t = await tsbpf("prog", "load", obj, join(pins.dir, "t"));
    const b = bpftool("prog", "load", obj, join(pins.dir, "b"));
    assert.equal(b.code, 255, b.stderr);
    assert.equal(t.code, b.code);
    assert.match(
      t.stderr,
      /^Error: failed to load object file: create hash map "bad": Invalid argument \(key 4, value 4, max entries 4, flags 0x80000/,
    );
    assert.deepEqual(readdirSync(pins.dir), [], "nothing pinned");
  } finally {
    pins.cleanup();
  }
  assert.deepEqual(fdSnapshot(), before);
});

test("prog show: the metadata section of .rodata's bpf_metadata_* variables, bound as libbpf binds it", {
  skip,
}, async () => {
  const pins = pinDir("prog-elf-meta");
  const before = fdSnapshot();
  try {
    const obj = join(import.meta.dirname, "testdata/cli/metadata.bpf.o");
    // Loaded by tsbpf and by bpftool (libbpf): the same .rodata binding, the same output,
    // also for meta_other, which reads no variable and so binds .rodata only through
    // BPF_PROG_BIND_MAP.
    assert.equal((await tsbpf("prog", "loadall", obj, join(pins.dir, "t"))).code, 0);
    assert.equal(bpftool("prog", "loadall", obj, join(pins.dir, "b")).code, 0);
    for (const prog of ["meta_prog", "meta_other"]) {
      for (const flags of [[], ["-j"], ["-p"]]) {
        const t = await tsbpf(...flags, "prog", "show", "pinned", join(pins.dir, "t", prog));
        const b = bpftool(...flags, "prog", "show", "pinned", join(pins.dir, "b", prog));
        const ids = (r: Run) =>
          r.stdout.replace(
            /\b(\d+): xdp|"id":\s*\d+|map_ids \d+|\[\d+\s*\]|"btf_id":\s*\d+|btf_id \d+|loaded_at \S+|"loaded_at":\s*\d+/g,
            "X",
          );
        assert.equal(ids(t), ids(b), `${prog} ${flags.join(" ")}`);
      }
    }
    const plain = await tsbpf("prog", "show", "pinned", join(pins.dir, "t", "meta_other"));
    assert.match(plain.stdout, /\tmetadata:\n\t\tname = "tsbpf-meta"\n\t\tversion = 3\n$/);
  } finally {
    pins.cleanup();
  }
  assert.deepEqual(fdSnapshot(), before);
});

const hasClang = spawnSync("clang-19", ["--version"]).status === 0;

test("prog loadall ... type TYPE for sections libbpf does not know; errors", {
  skip: skip || (!hasClang && "clang-19 is not installed (the test compiles its object)"),
}, async () => {
  const work = mkdtempSync(join(tmpdir(), "tsbpf-cli-prog-elf-"));
  const pins = pinDir("prog-elf-type");
  const before = fdSnapshot();
  try {
    writeFileSync(
      join(work, "unk.bpf.c"),
      `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("mysection") int prog_a(void *ctx) { return 2; }
SEC("xdp") int prog_b(struct xdp_md *ctx) { return 1; }
char LICENSE[] SEC("license") = "GPL";
`,
    );
    const cc = spawnSync(
      "clang-19",
      ["-g", "-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", "unk.bpf.c"],
      { cwd: work, encoding: "utf8" },
    );
    assert.equal(cc.status, 0, `clang-19 failed to compile unk.bpf.c:\n${cc.stderr}`);
    const obj = join(work, "unk.bpf.o");
    // Without a type, both refuse (bpftool through libbpf's message).
    const t0 = await tsbpf("prog", "loadall", obj, join(pins.dir, "t0"));
    const b0 = bpftool("prog", "loadall", obj, join(pins.dir, "b0"));
    assert.equal(t0.code, 255);
    assert.equal(b0.code, 255);
    assert.match(t0.stderr, /failed to guess program type from ELF section 'mysection'/);
    assert.match(b0.stderr, /failed to guess program type from ELF section 'mysection'/);
    assert.ok(!existsSync(join(pins.dir, "t0")), "nothing pinned after a failure");
    // With one, every program gets it.
    const t = await tsbpf("prog", "loadall", obj, join(pins.dir, "t"), "type", "xdp");
    const b = bpftool("prog", "loadall", obj, join(pins.dir, "b"), "type", "xdp");
    assert.equal(t.code, 0, t.stderr);
    assert.equal(b.code, 0, b.stderr);
    for (const p of ["prog_a", "prog_b"]) {
      assert.deepEqual(progSummary(join(pins.dir, "t", p)), progSummary(join(pins.dir, "b", p)));
      assert.equal(progSummary(join(pins.dir, "t", p)).type, "xdp");
    }
    // Argument errors: same words and exit codes as bpftool.
    for (const args of [
      ["type", "xdp", "type", "xdp"],
      ["map", "idx", "x1", "id", "1"],
      ["map", "foo", "0", "id", "1"],
      ["map", "idx", "0", "id", "4294967295"],
      ["bogus"],
    ]) {
      const tt = await tsbpf("prog", "loadall", obj, join(pins.dir, "e"), ...args);
      const bb = bpftool("prog", "loadall", obj, join(pins.dir, "e"), ...args);
      assert.equal(tt.stderr, bb.stderr, args.join(" "));
      assert.equal(tt.code, bb.code, args.join(" "));
    }
  } finally {
    pins.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
  assert.deepEqual(fdSnapshot(), before);
});

test("prog loadall ... map name|idx MAP: an existing map stands in, as with bpftool", {
  skip,
}, async () => {
  const pins = pinDir("prog-elf-map");
  const before = fdSnapshot();
  try {
    const obj = OBJECTS[4]!;
    const shared = join(pins.dir, "shared");
    const c = bpftool(
      "map",
      "create",
      shared,
      "type",
      "array",
      "key",
      "4",
      "value",
      "8",
      "entries",
      "3",
      "name",
      "counts",
    );
    assert.equal(c.code, 0, c.stderr);
    const sharedId = json("map", "show", "pinned", shared).id as number;
    for (const sel of [
      ["name", "counts"],
      ["idx", "0"],
    ]) {
      const tag = sel[0];
      const t = await tsbpf(
        "prog",
        "loadall",
        obj,
        join(pins.dir, `t_${tag}`),
        "map",
        ...sel,
        "pinned",
        shared,
      );
      const b = bpftool(
        "prog",
        "loadall",
        obj,
        join(pins.dir, `b_${tag}`),
        "map",
        ...sel,
        "pinned",
        shared,
      );
      assert.equal(t.code, 0, t.stderr);
      assert.equal(b.code, 0, b.stderr);
      for (const who of ["t", "b"]) {
        const ids = json("prog", "show", "pinned", join(pins.dir, `${who}_${tag}`, "count_openat"))
          .map_ids as number[];
        assert.ok(ids.includes(sharedId), `${who} ${sel.join(" ")}: map_ids ${ids}`);
      }
    }
    // A map that does not match the object's definition is refused, and nothing stays.
    const bad = join(pins.dir, "bad");
    bpftool(
      "map",
      "create",
      bad,
      "type",
      "hash",
      "key",
      "4",
      "value",
      "8",
      "entries",
      "3",
      "name",
      "bad",
    );
    const t = await tsbpf(
      "prog",
      "loadall",
      obj,
      join(pins.dir, "t_bad"),
      "map",
      "name",
      "counts",
      "pinned",
      bad,
    );
    assert.equal(t.code, 255);
    assert.match(t.stderr, /replacement map does not match spec "counts": type/);
    assert.ok(!existsSync(join(pins.dir, "t_bad")));
    // Names that are not in the object.
    const n = await tsbpf(
      "prog",
      "loadall",
      obj,
      join(pins.dir, "t_n"),
      "map",
      "name",
      "nope",
      "pinned",
      shared,
    );
    const bn = bpftool(
      "prog",
      "loadall",
      obj,
      join(pins.dir, "b_n"),
      "map",
      "name",
      "nope",
      "pinned",
      shared,
    );
    assert.equal(n.code, bn.code);
    assert.match(n.stderr, /unable to find map 'nope'/);
    assert.match(bn.stderr, /unable to find map 'nope'/);
  } finally {
    pins.cleanup();
  }
  assert.deepEqual(fdSnapshot(), before);
});

test("prog loadall ... autoattach: links pinned by program name, counting until unpinned", {
  skip,
}, async () => {
  const pins = pinDir("prog-elf-attach");
  const before = fdSnapshot();
  const dir = join(pins.dir, "links");
  const maps = join(pins.dir, "maps");
  let linkIdsSeen: number[] = [];
  try {
    const t = await tsbpf("prog", "loadall", OBJECTS[4]!, dir, "pinmaps", maps, "autoattach");
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stderr, "");
    const links = Object.fromEntries(
      readdirSync(dir).map((p) => [p, json("link", "show", "pinned", join(dir, p))]),
    );
    assert.deepEqual(Object.keys(links).sort(), ["count_close", "count_openat", "count_syscalls"]);
    assert.equal(links.count_openat!.type, "perf_event");
    assert.equal(links.count_close!.type, "perf_event");
    assert.equal(links.count_syscalls!.type, "raw_tracepoint");
    assert.equal(links.count_syscalls!.tp_name, "sys_enter");
    linkIdsSeen = Object.values(links).map((l) => l.id as number);
    // Attached: the counters move.
    spawnSync("cat", ["/etc/hostname"]);
    const counts = JSON.parse(
      bpftool("-j", "map", "dump", "pinned", join(maps, "counts")).stdout,
    ) as {
      key: unknown;
      value: unknown;
    }[];
    const values = counts.map((e) => {
      const v = e.value as string[] | number;
      return typeof v === "number"
        ? v
        : Number.parseInt([...v].reverse().join("").replace(/0x/g, ""), 16);
    });
    assert.ok(
      values.every((v) => v > 0),
      `counters ${values}`,
    );

    // A program that cannot be attached (a kprobe here) is pinned instead, with a note.
    const h = await tsbpf("prog", "loadall", OBJECTS[0]!, join(pins.dir, "hello"), "autoattach");
    assert.equal(h.code, 0, h.stderr);
    const kprobe = existsSync("/sys/bus/event_source/devices/kprobe");
    if (!kprobe) {
      assert.match(
        h.stderr,
        /^Program hello_kprobe does not support autoattach, falling back to pinning \(.*kprobes are not available on this kernel/,
      );
      assert.equal(
        json("prog", "show", "pinned", join(pins.dir, "hello", "hello_kprobe")).name,
        "hello_kprobe",
      );
    }
    assert.equal(
      json("link", "show", "pinned", join(pins.dir, "hello", "hello")).type,
      "perf_event",
    );
  } finally {
    pins.cleanup();
  }
  // Unpinned: the links are gone.
  const live = new Set(
    (JSON.parse(bpftool("-j", "link", "list").stdout) as Json[]).map((l) => l.id),
  );
  for (const id of linkIdsSeen) assert.ok(!live.has(id), `link ${id} still there`);
  assert.deepEqual(fdSnapshot(), before);
});

/** Runs `cmd` until a line of its stdout matches `re` (while `trigger` runs), then `signal`. */
/**
 * trace_pipe has one reader at a time machine-wide (the kernel answers EBUSY to a
 * second open): when another process holds it, wait and start the command again.
 */
async function streamUntil(
  cmd: string[],
  re: RegExp,
  signal: NodeJS.Signals,
  trigger: () => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  for (let attempt = 1; ; attempt++) {
    const r = await streamOnce(cmd, re, signal, trigger, attempt < 10);
    if (r !== "busy") return r;
    await sleep(500);
  }
}

async function streamOnce(
  cmd: string[],
  re: RegExp,
  signal: NodeJS.Signals,
  trigger: () => void,
  mayRetry: boolean,
): Promise<{ code: number | null; stdout: string; stderr: string } | "busy"> {
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  try {
    const deadline = Date.now() + 20_000;
    while (!re.test(stdout) && Date.now() < deadline && child.exitCode === null) {
      trigger();
      await sleep(100);
    }
    if (mayRetry && !re.test(stdout) && /EBUSY|resource busy/i.test(stdout + stderr)) return "busy";
    assert.match(stdout, re, `${cmd.join(" ")}: ${stderr}`);
    child.kill(signal);
    return { code: await exited, stdout, stderr };
  } finally {
    if (child.exitCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  }
}

test("prog tracelog: streams trace_pipe until SIGINT/SIGTERM, plain and JSON, as bpftool", {
  skip,
}, async () => {
  const pins = pinDir("prog-elf-tracelog");
  try {
    const l = await tsbpf("prog", "load", OBJECTS[0]!, join(pins.dir, "hello"), "autoattach");
    assert.equal(l.code, 0, l.stderr);
    const trigger = () => spawnSync("cat", ["/etc/hostname"]);
    // The task column is `cat-PID`, or `<...>-PID` when the kernel's saved-comm cache
    // no longer holds the short-lived cat's name.
    const line =
      /^ *(?:cat|<\.\.\.>)-\d+ +\[\d+\] \S+ +\d+\.\d+: bpf_trace_printk: hello from cat \(pid \d+\) via tracepoint$/m;
    const tsbpfCmd = [process.execPath, "--import", "tsx", "src/cli/main.ts"];
    for (const [tool, cmd] of [
      ["tsbpf", tsbpfCmd],
      ["bpftool", ["bpftool"]],
    ] as const) {
      const plain = await streamUntil([...cmd, "prog", "tracelog"], line, "SIGINT", trigger);
      assert.equal(plain.code, 0, `${tool}: ${plain.stderr}`);
      const js = await streamUntil(
        [...cmd, "-j", "prog", "tracelog"],
        /hello from cat/,
        "SIGTERM",
        trigger,
      );
      assert.equal(js.code, 0, `${tool} -j: ${js.stderr}`);
      const arr = JSON.parse(js.stdout) as string[];
      assert.ok(Array.isArray(arr) && arr.length > 0, tool);
      assert.ok(
        arr.every((s) => typeof s === "string" && s.endsWith("\n")),
        tool,
      );
      // The line format is checked exactly in plain mode above; here, that the JSON
      // strings carry the program's output.
      assert.ok(
        arr.some((s) => /bpf_trace_printk: hello from cat \(pid \d+\) via tracepoint/.test(s)),
        `${tool}: ${JSON.stringify(arr.slice(0, 5))}`,
      );
    }
  } finally {
    pins.cleanup();
  }
});
