/** Little-endian byte lists for building netlink messages by hand in tests. */

export const u16 = (v: number): number[] => [v & 0xff, v >> 8];
export const u32 = (v: number): number[] => [
  v & 0xff,
  (v >>> 8) & 0xff,
  (v >>> 16) & 0xff,
  v >>> 24,
];
/** A 16-byte `nlmsghdr` (port id 0). */
export const hdr = (len: number, type: number, flags: number, seq: number): number[] => [
  ...u32(len),
  ...u16(type),
  ...u16(flags),
  ...u32(seq),
  ...u32(0),
];
