/**
 * The programs the VM benchmarks run (bench/vm-interp.ts and bench/vm-maps.ts against
 * the kernel, bench/vm-browser.ts in Chromium against Node): pure, no `node:` imports,
 * so the browser bundle builds them too.
 * @module
 */
import { asm, type Instruction, R0, R1, R2, R6, R10 } from "../src/isa/index.ts";

/** An Ethernet/IPv4/TCP parser: bounds checks, IHL, protocol, port and flags (XDP). */
const PARSER = `
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 34
if r4 > r3 goto drop
r5 = *(u16 *)(r2 +12)
if r5 != 8 goto pass
r5 = *(u8 *)(r2 +14)
r5 &= 15
r5 <<= 2
if r5 < 20 goto drop
r6 = *(u8 *)(r2 +23)
if r6 != 6 goto pass
r4 = r2
r4 += 14
r4 += r5
r7 = r4
r7 += 20
if r7 > r3 goto drop
r0 = *(u16 *)(r4 +2)
r0 = be16 r0
r8 = *(u8 *)(r4 +13)
if r0 == 22 goto drop
r8 &= 2
if r8 != 0 goto pass
r9 = *(u32 *)(r2 +26)
r9 = be32 r9
r9 >>= 24
if r9 == 10 goto drop
pass:
r0 = 2
exit
drop:
r0 = 1
exit`;

/** A TCP segment to port 80 (ACK) over IPv4 over Ethernet. */
function tcpPacket(): Uint8Array {
  const p = new Uint8Array(64);
  const v = new DataView(p.buffer);
  v.setUint16(12, 0x0800);
  p[14] = 0x45;
  p[23] = 6;
  v.setUint32(26, 0xc0a80001);
  v.setUint16(36, 80);
  p[47] = 0x10;
  return p;
}

export const VM_PROGRAMS: readonly {
  name: string;
  text: string;
  repeat: number;
  goal: string;
  /** Issue 12's goal for the JIT. */
  jitGoal: string;
  data?: Uint8Array;
}[] = [
  {
    name: "2 instructions",
    text: "r0 = 2\nexit",
    repeat: 1_000_000,
    goal: "<= 50",
    jitGoal: "<= 3",
  },
  {
    name: "loop summing 0..999",
    text: "r0 = 0\nr1 = 0\nloop:\nr0 += r1\nr1 += 1\nif r1 < 1000 goto loop\nexit",
    repeat: 20_000,
    goal: "<= 50",
    jitGoal: "<= 1.5",
  },
  {
    name: "Ethernet/IPv4/TCP parser",
    text: PARSER,
    repeat: 1_000_000,
    goal: "<= 50",
    jitGoal: "<= 3",
    data: tcpPacket(),
  },
];

/** Map lookups per program in the lookup benchmarks. */
export const LOOKUPS = 100;

/**
 * `lookups` lookups of key (i & 15) (in the first 4 bytes of a 16-byte key, the rest
 * zero, for `keySize` 16) in the map whose handle is `fd`, summing the first word of
 * each value found.
 */
export function lookupProgram(fd: number, lookups = LOOKUPS, keySize = 4): Instruction[] {
  const out: Instruction[] = [asm.mov64(R6, 0)];
  if (keySize === 16) out.push(asm.st(32, R10, -12, 0), asm.st(64, R10, -8, 0));
  for (let i = 0; i < lookups; i++) {
    out.push(
      asm.st(32, R10, -keySize, i & 15),
      asm.ldMapFd(R1, fd),
      asm.mov64(R2, R10),
      asm.add64(R2, -keySize),
      asm.call("map_lookup_elem"),
      asm.jmp("jeq", R0, 0, 2),
      asm.ldx(8, R0, R0, 0),
      asm.alu64("add", R6, R0),
    );
  }
  out.push(asm.mov64(R0, 2), asm.exit());
  return out;
}
