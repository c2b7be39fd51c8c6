// Disassembly identical to `bpftool prog dump xlated` for programs loaded in the kernel,
// and to the running kernel's own verifier log for what an older bpftool cannot print.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  decodeProgram,
  disassembleKernel,
  formatKernel,
  type Instruction,
} from "../src/isa/index.ts";
import { kernelSkip, needs, toolSkip } from "./support/kernel.ts";

const skip = needs(
  kernelSkip,
  toolSkip("bpftool"),
  toolSkip("clang-19"),
  toolSkip("llvm-objcopy-19"),
);

const uniq = `${process.pid}`;

// Each program: one SEC() program and its subprograms, defined in the order they are first
// called (libbpf appends .text functions in that order).
const PROGRAMS: { name: string; src: string; subs: string[] }[] = [
  {
    name: "xdp_maps",
    subs: [`isa_sub_${uniq}`],
    src: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } h SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } a SEC(".maps");
static __attribute__((noinline)) int SUB0(int x) { return x * 3 + 1; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 k = 1; __u64 *v = bpf_map_lookup_elem(&h, &k);
  if (v) { __sync_fetch_and_add(v, 1); __u64 o = __sync_fetch_and_add(v, 2); if (o > 5) return SUB0(o); }
  __u64 *w = bpf_map_lookup_elem(&a, &k);
  if (w) { *w += bpf_ktime_get_ns(); long s = *(signed char *)w; long d = (long)*w | 1; s /= d; s %= 7; return (int)s; }
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (data + 4 > end) return 1;
  return __builtin_bswap32(*(__u32 *)data) == 7 ? 2 : SUB0(*(int *)data);
}
char LICENSE[] SEC("license") = "GPL";
`,
  },
  {
    name: "socket_v4",
    subs: [`isa_first_${uniq}`, `isa_second_${uniq}`],
    src: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");
__u64 counter; int small; long big[4]; signed char sc[8]; short ss[4];
static __attribute__((noinline)) long SUB0(long x, int y) { return x / (y | 1) + (short)x; }
static __attribute__((noinline)) int SUB1(int x) {
  __sync_fetch_and_or(&small, x); int o = __sync_lock_test_and_set(&small, 3);
  return o + __sync_val_compare_and_swap(&small, x, 9) + __sync_fetch_and_xor(&small, 1);
}
SEC("socket") int prog(struct __sk_buff *skb) {
  unsigned long long proto = load_half(skb, 12), b = load_byte(skb, 14), w = load_word(skb, proto & 7);
  counter += b; big[2] = __builtin_bswap64(counter) + bpf_get_prandom_u32();
  __sync_fetch_and_and(&big[1], (long)w);
  long s = sc[3] + ss[1];
  int r = SUB0(s + proto, (int)w);
  if ((int)w < -3) r += SUB1(r);
  return r;
}
char LICENSE[] SEC("license") = "GPL";
`,
  },
];

function ksyms(): Map<bigint, string[]> {
  const m = new Map<bigint, string[]>();
  for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
    const [addr, , name] = line.split(/\s+/);
    if (!addr || !name) continue;
    const a = BigInt(`0x${addr}`);
    if (a === 0n) continue;
    const list = m.get(a);
    if (list) list.push(name);
    else m.set(a, [name]);
  }
  return m;
}

function isV4(i: Instruction): boolean {
  switch (i.kind) {
    case "alu":
      return i.op === "movsx" || i.op === "sdiv" || i.op === "smod";
    case "endian":
      return i.order === "swap";
    case "load":
      return i.signExtend;
    case "goto":
      return i.long;
    case "atomic":
      return i.op === "load_acquire" || i.op === "store_release" || i.size < 32;
    case "may_goto":
    case "addr_space_cast":
      return true;
    default:
      return false;
  }
}

/** `N: (code) text` lines of a listing or verifier log, first occurrence per slot. */
function instructionLines(text: string, strict = true): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split("\n")) {
    // bpftool prints instructions it does not know as `BUG_<class>_<code>`
    const m = (strict ? /^\s*(\d+): (\([0-9a-f]{2}\) .*)$/ : /^\s*(\d+): (\S.*)$/).exec(line);
    if (!m) continue;
    const slot = Number(m[1]);
    // verifier log: drop register state after `;` or a `N: R..`/`N: frame` state
    const t = m[2]!
      .replace(/\s+;.*$/, "")
      .replace(/ \d+: (R\d|frame).*$/, "")
      .trimEnd();
    if (!out.has(slot)) out.set(slot, t);
  }
  return out;
}

function bpftoolVersion(): [number, number] {
  const m = /v(\d+)\.(\d+)/.exec(execFileSync("bpftool", ["version"]).toString());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

function ensureBpffs(): void {
  const mounts = readFileSync("/proc/mounts", "utf8");
  if (!/ \/sys\/fs\/bpf bpf /.test(mounts))
    execFileSync("mount", ["-t", "bpf", "bpf", "/sys/fs/bpf"]);
}

describe("bpftool prog dump xlated comparison", { skip }, () => {
  for (const p of PROGRAMS) {
    it(`${p.name}: every xlated line matches bpftool, v4 lines match the kernel's log`, () => {
      ensureBpffs();
      const dir = mkdtempSync(join(tmpdir(), "tsbpf-isa-bpftool-"));
      const pin = `/sys/fs/bpf/tsbpf-isa-test-${uniq}-${p.name}`;
      try {
        const c = join(dir, `${p.name}.c`);
        const o = join(dir, `${p.name}.o`);
        writeFileSync(c, p.src);
        const defs = p.subs.map((s, i) => `-DSUB${i}=${s}`);
        execFileSync("clang-19", [
          "-g",
          "-O2",
          "-target",
          "bpf",
          "-mcpu=v4",
          "-I/usr/include/x86_64-linux-gnu",
          ...defs,
          "-c",
          c,
          "-o",
          o,
        ]);
        const load = spawnSync("bpftool", ["-d", "prog", "load", o, pin], { encoding: "utf8" });
        assert.equal(load.status, 0, `bpftool prog load failed:\n${load.stderr}`);
        const text = execFileSync("bpftool", ["prog", "dump", "xlated", "pinned", pin]).toString();
        const raw = join(dir, "xlated.bin");
        execFileSync("bpftool", ["prog", "dump", "xlated", "pinned", pin, "file", raw]);
        const json = JSON.parse(
          execFileSync("bpftool", ["-j", "prog", "dump", "xlated", "pinned", pin]).toString(),
        ) as { disasm: string }[];

        // --- the translated program, against bpftool ---
        const syms = ksyms();
        const base = [...syms].find(([, n]) => n.includes("__bpf_call_base"))?.[0];
        assert.ok(base !== undefined, "__bpf_call_base not in /proc/kallsyms");
        const subSym = p.subs.map((s) =>
          [...syms.values()].flat().find((n) => new RegExp(`^bpf_prog_[0-9a-f]{16}_${s}$`).test(n)),
        );
        const insns = decodeProgram(new Uint8Array(readFileSync(raw)), { kernelInternal: true });
        const subStarts: number[] = [];
        let slot = 0;
        const slots: number[] = [];
        for (const i of insns) {
          slots.push(slot);
          if (i.kind === "call" && i.target === "bpf") subStarts.push(slot + 1 + i.off);
          slot += i.bytes / 8;
        }
        const order = [...new Set(subStarts)].sort((x, y) => x - y);
        const expected = instructionLines(text, false);
        const [maj, min] = bpftoolVersion();
        const bpftoolKnowsV4 = maj > 7 || (maj === 7 && min >= 3);
        const v4Slots: number[] = [];
        let compared = 0;
        insns.forEach((insn, k) => {
          const s = slots[k]!;
          const ours = formatKernel(
            insn,
            {
              xlated: true,
              callName: (ci) => {
                if (ci.target === "bpf") return subSym[order.indexOf(s + 1 + ci.off)];
                return syms.get(base + BigInt(ci.imm))?.[0];
              },
            },
            s,
          );
          let want = expected.get(s);
          assert.ok(want, `bpftool printed no line ${s}`);
          if (insn.kind === "call" && insn.target !== "bpf") {
            // kallsyms may hold aliases at one address; bpftool picks one of them
            const names = syms.get(base + BigInt(insn.imm)) ?? [];
            for (const n of names) want = want.replace(`call ${n}#`, `call ${names[0]}#`);
          }
          if (ours !== want && isV4(insn) && !bpftoolKnowsV4) {
            v4Slots.push(s);
            return;
          }
          assert.equal(ours, want, `slot ${s}`);
          assert.equal(json[k]?.disasm, want, `json slot ${s}`);
          compared++;
        });
        assert.equal(json.length, insns.length);
        // `opcodes`: the raw bytes under each line, formatted as bpftool does
        const hexLines = (t: string) =>
          t.split("\n").filter((l) => /^ {7}[0-9a-f]{2}( [0-9a-f]{2})*$/.test(l));
        const withOpcodes = execFileSync("bpftool", [
          "prog",
          "dump",
          "xlated",
          "pinned",
          pin,
          "opcodes",
        ]).toString();
        assert.deepEqual(
          hexLines(disassembleKernel(insns, { opcodes: true })),
          hexLines(withOpcodes),
        );
        assert.ok(compared > 20, `only ${compared} lines compared`);

        // --- the original program, against the running kernel's verifier log ---
        const log = instructionLines(load.stderr);
        if (log.size === 0) return; // this bpftool prints no verifier log
        const sec = (name: string) => {
          const f = join(dir, `${name.replace(/\W/g, "_")}.bin`);
          execFileSync("llvm-objcopy-19", ["-O", "binary", `--only-section=${name}`, o, f]);
          return existsSync(f) ? new Uint8Array(readFileSync(f)) : new Uint8Array();
        };
        const main = sec(p.name.startsWith("xdp") ? "xdp" : "socket");
        const orig = decodeProgram(new Uint8Array([...main, ...sec(".text")]));
        let at = 0;
        let logCompared = 0;
        let v4Compared = 0;
        for (const insn of orig) {
          const want = log.get(at);
          if (
            want !== undefined &&
            insn.kind !== "lddw" &&
            !(insn.kind === "call" && insn.target === "bpf")
          ) {
            assert.equal(formatKernel(insn, { rawImm: true }), want, `verifier log slot ${at}`);
            logCompared++;
            if (isV4(insn)) v4Compared++;
          }
          at += insn.bytes / 8;
        }
        assert.ok(logCompared > 10, `only ${logCompared} verifier log lines compared`);
        if (v4Slots.length > 0)
          assert.ok(v4Compared > 0, "v4 instructions were not checked anywhere");
      } finally {
        rmSync(pin, { force: true });
        rmSync(dir, { recursive: true, force: true });
      }
      assert.equal(existsSync(pin), false, "pin left behind");
    });
  }
});
