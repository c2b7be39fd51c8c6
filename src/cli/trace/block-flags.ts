/**
 * The names biolatency -F prints for a request's I/O flags, as BCC's biolatency names
 * them ("Read", "Sync-Write", "ForcedUnitAccess-Metadata-Sync-Write"): the operation,
 * each flag a prefix, in BCC's order. The label comes from biolatency.bpf.c: the
 * operation in the low byte (the kernel's REQ_OP_* numbers, 0xff when unknown) and the
 * flags at the kernel's REQ_* bit positions (include/linux/blk_types.h, with 8 bits of
 * operation).
 *
 * On tracepoints the flags come from the kernel's rwbs text, which shows sync, metadata,
 * FUA and read-ahead; priority, no-merge, idle, background and no-wait, which BCC reads
 * from the request on a kprobe, have no letter there and are never set.
 *
 * @module
 */

/** Operations by REQ_OP_* number, as BCC names them. */
const OPERATIONS: Readonly<Record<number, string>> = {
  0: "Read",
  1: "Write",
  2: "Flush",
  3: "Discard",
  5: "SecureErase",
  6: "ZoneReset",
  7: "WriteSame",
  9: "WriteZeros",
};

/** Flag bits (REQ_* with 8 bits of operation) and their names, in the order BCC prefixes them. */
export const REQ_FLAG_NAMES: readonly (readonly [bit: number, name: string])[] = [
  [1 << 11, "Sync"],
  [1 << 12, "Metadata"],
  [1 << 17, "ForcedUnitAccess"],
  [1 << 13, "Priority"],
  [1 << 14, "NoMerge"],
  [1 << 15, "Idle"],
  [1 << 19, "ReadAhead"],
  [1 << 20, "Background"],
  [1 << 21, "NoWait"],
];

/** BCC's name of a set of request flags: "Read", "Sync-Write", "Unknown", ... */
export function blockFlagsName(flags: number): string {
  let name = OPERATIONS[flags & 0xff] ?? "Unknown";
  for (const [bit, flag] of REQ_FLAG_NAMES) if (flags & bit) name = `${flag}-${name}`;
  return name;
}
