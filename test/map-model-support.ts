/**
 * Shared helpers of the kernel map tests: byte builders and the leak check every
 * kernel test runs (tsbpf's own fd count and the process's /proc/self/fd entries).
 */
import { assertNoLeak } from "./leak-check.ts";
import { kernelSkip } from "./support/kernel.ts";

/** Why kernel map tests skip, or false when they can run. */
export const skipUnlessRoot = kernelSkip;

/** 4 little-endian bytes. */
export const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

/** 8 little-endian bytes. */
export const u64 = (n: number) => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);

/** The u32 in the first 4 bytes. */
export const readU32 = (b: Uint8Array | undefined) =>
  b === undefined
    ? undefined
    : new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);

/** Runs `body` and checks it left no descriptor open, tsbpf's or the process's. */
export async function noLeaks(body: () => void | Promise<void>): Promise<void> {
  await assertNoLeak(async () => {
    await body();
  });
}

/** An IPv4 LPM trie key: prefix length (host order) then the address. */
export function lpm4(prefixLen: number, a: number, b: number, c: number, d: number): Uint8Array {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setUint32(0, prefixLen, true);
  k.set([a, b, c, d], 4);
  return k;
}
