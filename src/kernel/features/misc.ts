/**
 * "Scanning miscellaneous eBPF features": program size limit, bounded loops, and the
 * instruction set extensions (the `-mcpu=v2/v3/v4` of clang), each probed by loading
 * a small program that needs it.
 * @module
 */

import {
  BPF_ALU64,
  BPF_DIV,
  BPF_END,
  BPF_JA,
  BPF_JLT,
  BPF_JMP32,
  BPF_JNE,
  BPF_K,
  BPF_MOV,
  BPF_SUB,
  BPF_TO_LE,
  BPF_X,
  Errno,
  ProgType,
} from "../../uapi/index.ts";
import { encodeRaw, exit, jmp32Imm, jmpImm, movImm, type RawInsn } from "./insns.ts";
import { probeLoad } from "./probe-load.ts";
import { available, cached, errnoWords, type FeatureStatus, unavailable } from "./status.ts";

/** BPF_MAXINSNS: the old program size limit (still the unprivileged one). */
const BPF_MAXINSNS = 4096;

function verdict(
  feature: string,
  type: number,
  insns: readonly RawInsn[],
  missing: string,
): FeatureStatus {
  const r = probeLoad(type, encodeRaw(insns), { withLog: true });
  if (r.ok) return available(feature);
  const line = r.log
    .trim()
    .split("\n")
    .filter((l) => !/^processed \d+ insns/.test(l))
    .pop();
  return unavailable(
    feature,
    `${missing}: the kernel answered ${errnoWords(r.errno)}${line ? ` (${line})` : ""}`,
    r.errno,
  );
}

/** Programs longer than 4096 instructions load (Linux 5.2: up to 1M for privileged users). */
export function haveLargeInsnLimit(): FeatureStatus {
  return cached("misc:large-insn-limit", () => {
    const feature = "large program size limit";
    const insns: RawInsn[] = [];
    for (let i = 0; i < BPF_MAXINSNS; i++) insns.push(movImm(0, 1));
    insns.push(exit());
    const r = probeLoad(ProgType.SCHED_CLS, encodeRaw(insns));
    // As bpftool: only E2BIG or EINVAL say "too big"; anything else is another problem.
    if (r.ok || (r.errno !== Errno.E2BIG && r.errno !== Errno.EINVAL)) return available(feature);
    return unavailable(
      feature,
      `a program of ${BPF_MAXINSNS + 1} instructions was refused with ${errnoWords(r.errno)}`,
      r.errno,
    );
  });
}

/** Loops the verifier can prove terminate (Linux 5.3). */
export function haveBoundedLoops(): FeatureStatus {
  return cached("misc:bounded-loops", () =>
    verdict(
      "bounded loop support",
      ProgType.SOCKET_FILTER,
      [
        movImm(0, 10),
        [BPF_ALU64 | BPF_SUB | BPF_K, 0, 0, 1], // r0 -= 1
        jmpImm(BPF_JNE, 0, 0, -2), // if r0 != 0 goto -2
        exit(),
      ],
      "a loop of 10 iterations was refused",
    ),
  );
}

/** ISA v2: `BPF_JLT`/`JLE`/`JSLT`/`JSLE` (Linux 4.14). */
export function haveIsaV2(): FeatureStatus {
  return cached("misc:isa-v2", () =>
    verdict(
      "ISA extension v2",
      ProgType.SOCKET_FILTER,
      [movImm(0, 0), jmpImm(BPF_JLT, 0, 0, 1), movImm(0, 1), exit()],
      "`if r0 < 0 goto` was refused",
    ),
  );
}

/** ISA v3: 32-bit jumps, `BPF_JMP32` (Linux 5.1). */
export function haveIsaV3(): FeatureStatus {
  return cached("misc:isa-v3", () =>
    verdict(
      "ISA extension v3",
      ProgType.SOCKET_FILTER,
      [movImm(0, 0), jmp32Imm(BPF_JLT, 0, 0, 1), movImm(0, 1), exit()],
      "`if w0 < 0 goto` was refused",
    ),
  );
}

/**
 * ISA v4 (Linux 6.6): sign-extending moves, signed division, unconditional byte swap
 * and the 32-bit-offset `gotol`, all in one program.
 */
export function haveIsaV4(): FeatureStatus {
  return cached("misc:isa-v4", () =>
    verdict(
      "ISA extension v4",
      ProgType.SOCKET_FILTER,
      [
        movImm(0, 0),
        [BPF_ALU64 | BPF_MOV | BPF_X, 0x00, 8, 0], // r0 = (s8) r0
        [BPF_ALU64 | BPF_DIV | BPF_K, 0x00, 1, 1], // r0 s/= 1
        [BPF_ALU64 | BPF_END | BPF_TO_LE, 0x00, 0, 16], // r0 = bswap16 r0
        [BPF_JMP32 | BPF_JA, 0x00, 0, 0], // gotol +0
        exit(),
      ],
      "cpu v4 instructions (movsx, sdiv, bswap, gotol) were refused",
    ),
  );
}

/** Every miscellaneous probe, in bpftool's order (v4 last: bpftool 7.1 lacks it). */
export function probeMiscFeatures(): FeatureStatus[] {
  return [haveLargeInsnLimit(), haveBoundedLoops(), haveIsaV2(), haveIsaV3(), haveIsaV4()];
}
