/**
 * The value of libbpf's `__bpf_usdt_specs` map: `struct __bpf_usdt_spec` from
 * usdt.bpf.h (libbpf 1.1), which `bpf_usdt_arg()`, `bpf_usdt_arg_cnt()` and
 * `bpf_usdt_cookie()` read in the BPF program. Layout (x86-64 and arm64 alike):
 *
 * ```c
 * struct __bpf_usdt_arg_spec {      // 16 bytes
 *   __u64 val_off;                  // 0: constant, or offset from the register
 *   enum __bpf_usdt_arg_type type;  // 8: CONST 0, REG 1, REG_DEREF 2
 *   short reg_off;                  // 12: offsetof(struct pt_regs, reg)
 *   bool arg_signed;                // 14
 *   char arg_bitshift;              // 15: 64 - 8 * size
 * };
 * struct __bpf_usdt_spec {          // 208 bytes
 *   struct __bpf_usdt_arg_spec args[12];  // 0
 *   __u64 usdt_cookie;              // 192: bpf_usdt_cookie()
 *   short arg_cnt;                  // 200
 * };
 * ```
 *
 * @module
 */

import { USDT_MAX_ARGS, type UsdtArgSpec } from "../../elf/index.ts";

/** Byte offsets and sizes of `struct __bpf_usdt_spec` and its argument records. */
export const USDT_SPEC = {
  argSize: 16,
  argValOff: 0,
  argType: 8,
  argRegOff: 12,
  argSigned: 14,
  argBitshift: 15,
  cookie: USDT_MAX_ARGS * 16,
  argCount: USDT_MAX_ARGS * 16 + 8,
  sizeof: USDT_MAX_ARGS * 16 + 16,
} as const;

/**
 * `struct __bpf_usdt_spec` for a probe site with arguments `args` and the user's
 * `cookie` (what `bpf_usdt_cookie()` returns).
 *
 * @throws RangeError for more than 12 arguments
 * @example
 * ```ts
 * specsMap.update(u32(specId), encodeUsdtSpec(probe.argSpecs, 0n));
 * ```
 */
export function encodeUsdtSpec(args: readonly UsdtArgSpec[], cookie: bigint): Uint8Array {
  if (args.length > USDT_MAX_ARGS) {
    throw new RangeError(
      `a USDT spec holds at most ${USDT_MAX_ARGS} arguments, not ${args.length}`,
    );
  }
  const out = new Uint8Array(USDT_SPEC.sizeof);
  const v = new DataView(out.buffer);
  args.forEach((a, i) => {
    const o = i * USDT_SPEC.argSize;
    v.setBigUint64(o + USDT_SPEC.argValOff, BigInt.asUintN(64, a.valueOffset), true);
    v.setUint32(o + USDT_SPEC.argType, a.kind, true);
    v.setInt16(o + USDT_SPEC.argRegOff, a.regOffset, true);
    v.setUint8(o + USDT_SPEC.argSigned, a.signed ? 1 : 0);
    v.setInt8(o + USDT_SPEC.argBitshift, a.bitshift);
  });
  v.setBigUint64(USDT_SPEC.cookie, BigInt.asUintN(64, cookie), true);
  v.setInt16(USDT_SPEC.argCount, args.length, true);
  return out;
}
