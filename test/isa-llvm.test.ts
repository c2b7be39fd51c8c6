// Disassembly identical to llvm-objdump-19 for clang-19 compiled objects.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assemble, decodeInstruction, encodeProgram, formatLlvm } from "../src/isa/index.ts";

const have = (cmd: string) => spawnSync(cmd, ["--version"]).status === 0;
const skip =
  !have("clang-19") || !have("llvm-objdump-19") || !have("llvm-objcopy-19")
    ? "clang-19, llvm-objdump-19 or llvm-objcopy-19 not installed"
    : false;

const SOURCES: Record<string, string> = {
  "alu.c": `
typedef unsigned long long u64; typedef unsigned int u32; typedef signed char s8;
typedef short s16; typedef int s32; typedef long long s64;
__attribute__((noinline)) s64 f_signed(s64 a, s64 b, s32 c, s32 d) {
  s64 r = a / b + a % b; s32 q = c / d + c % d;
  return r + q + (s8)a + (s16)b + (s32)(a >> 3) + (a >> (b & 63)) + ((u64)a >> 7);
}
__attribute__((noinline)) u64 f_unsigned(u64 a, u64 b, u32 c, u32 d) {
  return a / (b | 1) + a % (b | 1) + c / (d | 1) + (c % (d | 1)) + (a ^ b) * (c | d) - (~a & b);
}
__attribute__((noinline)) u64 f_swap(u64 a, u32 b, unsigned short c) {
  return __builtin_bswap64(a) + __builtin_bswap32(b) + __builtin_bswap16(c) + -a;
}
__attribute__((noinline)) long f_loads(const void *p) {
  const s8 *b = p; const s16 *h = p; const s32 *w = p; const u32 *uw = p; const u64 *d = p;
  return b[1] + h[3] + w[5] + uw[7] + d[9] + ((const unsigned char *)p)[2];
}
__attribute__((noinline)) void f_stores(void *p, u64 v) {
  ((unsigned char *)p)[0] = v; ((unsigned short *)p)[1] = v; ((u32 *)p)[1] = v;
  ((u64 *)p)[1] = v; ((u64 *)p)[2] = 0x1234567890ULL; ((u32 *)p)[6] = 7; ((u64 *)p)[4] = -3;
}
__attribute__((noinline)) long f_atomics(long *p, int *q, long v, int w) {
  long r = __sync_fetch_and_add(p, v) + __sync_fetch_and_or(p, v) + __sync_fetch_and_and(p, v)
         + __sync_fetch_and_xor(p, v) + __sync_lock_test_and_set(p, v) + __sync_val_compare_and_swap(p, v, 3);
  int s = __sync_fetch_and_add(q, w) + __sync_fetch_and_or(q, w) + __sync_fetch_and_xor(q, w)
        + __sync_lock_test_and_set(q, w) + __sync_val_compare_and_swap(q, w, 5);
  __sync_fetch_and_add(p, 1); __sync_fetch_and_and(q, 2);
  __atomic_fetch_or(p, 4, __ATOMIC_RELAXED);
  return r + s;
}
__attribute__((noinline)) int f_branches(long a, long b, int c, unsigned d) {
  int n = 0;
  for (int i = 0; i < 100 && i < c; i++) { if (a > b) n += 3; else if ((unsigned long)a < (unsigned long)b) n--; if (c < -5) n ^= i; if (d >= 9) n *= 2; if (a & 0x100) n++; }
  return n + (c == 7 ? f_signed(a, b, c, c) : 1) + (d != 3u);
}
`,
  "prog.c": `
typedef unsigned long long u64; typedef unsigned int u32;
struct { int type; u32 key_size; u32 value_size; u32 max_entries; } m __attribute__((section(".maps")));
static void *(*lookup)(void *map, const void *key) = (void *)1;
static u64 (*ktime)(void) = (void *)5;
u64 counter; int table[8] = {1, 2, 3};
static __attribute__((noinline)) int helper_fn(int x) { return x * 7 + table[x & 7]; }
__attribute__((section("xdp"), used)) int prog(void *ctx) {
  u32 k = 0; u64 *v = lookup(&m, &k);
  if (!v) return 1;
  *v += ktime(); counter++;
  return helper_fn(*(int *)ctx) + (int)*v;
}
`,
};

function sections(obj: string): { name: string; symbols: { name: string; offset: number }[] }[] {
  const out = new Map<string, { name: string; offset: number }[]>();
  const dump = execFileSync("llvm-objdump-19", ["-d", obj]).toString();
  for (const m of dump.matchAll(/^Disassembly of section (\S+):$/gm)) out.set(m[1]!, []);
  const syms = execFileSync("llvm-objdump-19", ["-t", obj]).toString();
  for (const line of syms.split("\n")) {
    // 0000000000000000 g     F .text	0000000000000048 f_signed
    const m = /^([0-9a-f]{16}) .{7} (\S+)\t[0-9a-f]+ (.+)$/.exec(line);
    if (m && out.has(m[2]!) && !m[3]!.startsWith(".")) {
      out.get(m[2]!)!.push({ name: m[3]!, offset: Number.parseInt(m[1]!, 16) });
    }
  }
  return [...out].map(([name, symbols]) => ({ name, symbols }));
}

describe("llvm-objdump-19 comparison", { skip }, () => {
  for (const [file, src] of Object.entries(SOURCES)) {
    it(`${file}: every line matches, with and without ALU32`, () => {
      const dir = mkdtempSync(join(tmpdir(), "tsbpf-isa-llvm-"));
      try {
        const c = join(dir, file);
        const o = join(dir, file.replace(/\.c$/, ".o"));
        writeFileSync(c, src);
        execFileSync("clang-19", ["-O2", "-target", "bpf", "-mcpu=v4", "-c", c, "-o", o]);
        let compared = 0;
        for (const sec of sections(o)) {
          const bin = join(dir, "sec.bin");
          execFileSync("llvm-objcopy-19", ["-O", "binary", `--only-section=${sec.name}`, o, bin]);
          const bytes = new Uint8Array(readFileSync(bin));
          for (const alu32 of [true, false]) {
            const args = ["-d", `--section=${sec.name}`, ...(alu32 ? ["--mcpu=v4"] : []), o];
            const dump = execFileSync("llvm-objdump-19", args).toString();
            for (const line of dump.split("\n")) {
              const m = /^\s*(\d+):\t([0-9a-f ]+)\t(.*)$/.exec(line);
              if (!m) continue;
              const slot = Number(m[1]);
              const insn = decodeInstruction(bytes, slot);
              const ours = formatLlvm(
                insn,
                { alu32, symbols: sec.symbols, section: sec.name },
                slot,
              );
              assert.equal(ours, m[3], `${file} ${sec.name} slot ${slot} (alu32 ${alu32})`);
              compared++;
            }
            if (alu32) {
              // The listing assembles back to the section's bytes, except that llvm-objdump
              // prints helper and bpf-to-bpf calls alike (`call 0x1`): compare calls' src apart.
              const back = encodeProgram(assemble(dump));
              const want = bytes.slice();
              for (let i = 0; i < want.length; i += 8) if (want[i] === 0x85) want[i + 1] = 0;
              assert.deepEqual(back, want, `${file} ${sec.name} reassembled`);
            }
          }
        }
        assert.ok(compared > 40, `only ${compared} lines compared`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
