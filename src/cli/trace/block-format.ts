/**
 * The block tracepoints' record offsets on this kernel, for block.bpf.h's constants:
 * read from tracefs at run time, because they moved (Linux 6.10 added `ioprio` and
 * widened `rwbs` from 8 to 10 bytes, shifting `comm`).
 *
 * @module
 */

import {
  readTracepointFormat,
  type TracepointField,
  tracepointField,
} from "../../kernel/links/tracepoint-format.ts";
import { CliError } from "../format/output.ts";
import { canTrace, TRACE_EXIT_FAILURE } from "./trace-session.ts";

/** The events the block tools attach to; they agree on dev, sector and nr_sector. */
const EVENTS = ["block_rq_insert", "block_rq_issue", "block_rq_complete"] as const;

/** `.rodata` constants of block.bpf.h (and biosnoop's rwbs). */
export interface BlockOffsets {
  readonly off_dev: number;
  readonly off_sector: number;
  readonly off_nr_sector: number;
  readonly off_rwbs: number;
  readonly rwbs_size: number;
}

/** The layout before Linux 6.10. */
const LINUX_6_1: BlockOffsets = {
  off_dev: 8,
  off_sector: 16,
  off_nr_sector: 24,
  off_rwbs: 32,
  rwbs_size: 8,
};

/**
 * The offsets from this kernel's format files.
 * @throws CliError (exit status 1) naming the tracepoint when a format is missing or
 * differs between the events
 */
export function blockOffsets(tool: string): BlockOffsets {
  // tracefs is root's: without the rights the load fails first, with the message saying so.
  if (!canTrace()) return LINUX_6_1;
  let found: BlockOffsets | undefined;
  for (const event of EVENTS) {
    const where = `block:${event}`;
    let fields: TracepointField[];
    let o: BlockOffsets;
    try {
      fields = readTracepointFormat("block", event);
      const rwbs = tracepointField(fields, "rwbs", where);
      o = {
        off_dev: tracepointField(fields, "dev", where, 4).offset,
        off_sector: tracepointField(fields, "sector", where, 8).offset,
        off_nr_sector: tracepointField(fields, "nr_sector", where, 4).offset,
        off_rwbs: rwbs.offset,
        rwbs_size: rwbs.size,
      };
    } catch (e) {
      throw new CliError(`trace ${tool}: ${(e as Error).message}`, TRACE_EXIT_FAILURE);
    }
    if (
      found &&
      (found.off_dev !== o.off_dev ||
        found.off_sector !== o.off_sector ||
        found.off_nr_sector !== o.off_nr_sector)
    ) {
      throw new CliError(
        `trace ${tool}: ${where} places dev/sector/nr_sector elsewhere than block_rq_insert`,
        TRACE_EXIT_FAILURE,
      );
    }
    // biosnoop reads rwbs at insert and issue, which share their layout.
    found ??= o;
  }
  return found as BlockOffsets;
}
