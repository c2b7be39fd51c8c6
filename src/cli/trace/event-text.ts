/**
 * Small text pieces the event tools share: printf-style padding, BCC's wall-clock
 * columns, IP addresses from the kernel's byte arrays, and signal and errno names.
 *
 * @module
 */

import { constants } from "node:os";
import { errnoName } from "../../uapi/index.ts";

/** printf's `%-Ns`: left-aligned, padded to `n`, never cut. */
export function left(s: string | number | bigint, n: number): string {
  return String(s).padEnd(n);
}

/** printf's `%Ns`: right-aligned, padded to `n`. */
export function right(s: string | number | bigint, n: number): string {
  return String(s).padStart(n);
}

const two = (n: number) => String(n).padStart(2, "0");

/** The local time as strftime's `%H:%M:%S`, as BCC's TIME columns print it. */
export function clockTime(d: Date = new Date()): string {
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Address families the kernel reports (AF_INET, AF_INET6). */
export const AF_INET = 2;
export const AF_INET6 = 10;

/**
 * The address in `bytes[off..off+16)` as text: dotted IPv4 from the first four bytes
 * when `family` is AF_INET, else RFC 5952 IPv6 (longest run of zero groups as `::`,
 * IPv4-mapped addresses as `::ffff:a.b.c.d`).
 */
export function inetAddress(family: number, bytes: Uint8Array, off: number): string {
  if (family === AF_INET) return [...bytes.subarray(off, off + 4)].join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[off + i]! << 8) | bytes[off + i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${[...bytes.subarray(off + 12, off + 16)].join(".")}`;
  }
  let best = -1;
  let bestLen = 1; // a single zero group is not shortened (RFC 5952 4.2.2)
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** The IP version column (4 or 6) of an address family. */
export function ipVersion(family: number): number {
  return family === AF_INET6 ? 6 : 4;
}

const SIGNAL_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.signals)) {
  if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name);
}

/** A signal's name without its SIG prefix ("INT"), or undefined for an unknown number. */
export function signalName(sig: number): string | undefined {
  return SIGNAL_NAMES.get(sig)?.replace(/^SIG/, "");
}

/** A negative errno as strace-style text (`-ENOENT`), anything else as its number. */
export function resultText(ret: number): string {
  if (ret >= 0) return String(ret);
  const name = errnoName(-ret);
  return name ? `-${name}` : String(ret);
}
