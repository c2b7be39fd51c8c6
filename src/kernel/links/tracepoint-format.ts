/**
 * A tracepoint's record layout, as tracefs prints it in `events/GROUP/NAME/format`
 * (`field:dev_t dev;	offset:8;	size:4;	signed:0;`). Record layouts change between
 * kernels (block_rq_issue gained `ioprio` and a wider `rwbs` in 6.10), so a program
 * that reads them can take the offsets from here at run time instead of compiling
 * them in.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { tracefsDir } from "./tracefs.ts";

/** One field of a tracepoint record. */
export interface TracepointField {
  /** The field's name (`dev`, `rwbs`, `common_pid`). */
  readonly name: string;
  /** Its C declaration as tracefs prints it (`char rwbs[10]`). */
  readonly declaration: string;
  /** Byte offset in the record. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
  /** Whether it is signed. */
  readonly signed: boolean;
}

/** The most a format file may hold: real ones are a few KiB. */
const MAX_FORMAT_BYTES = 64 * 1024;

const FIELD = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;

/**
 * Parses the text of a tracefs `format` file into its fields, in order.
 *
 * @param source where the text came from, for messages
 * @throws SyntaxError when a `field:` line does not parse, or nothing does
 */
export function parseTracepointFormat(text: string, source = "format"): TracepointField[] {
  if (text.length > MAX_FORMAT_BYTES) {
    throw new SyntaxError(`${source}: ${text.length} bytes, more than ${MAX_FORMAT_BYTES}`);
  }
  const fields: TracepointField[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (!line.trimStart().startsWith("field:")) return;
    const m = FIELD.exec(line);
    const declaration = m?.[1]?.trim() ?? "";
    // The name is the declaration's last identifier, before any array bounds.
    const name = /([A-Za-z_]\w*)\s*(\[[^\]]*\])?$/.exec(declaration)?.[1];
    if (!m || !name) {
      throw new SyntaxError(`${source}:${i + 1}: cannot parse field line '${line.trim()}'`);
    }
    fields.push({
      name,
      declaration,
      offset: Number(m[2]),
      size: Number(m[3]),
      signed: m[4] !== "0",
    });
  });
  if (fields.length === 0) throw new SyntaxError(`${source}: no field lines`);
  return fields;
}

/**
 * The fields of tracepoint `group:name` on this kernel.
 *
 * @throws Error (ENOENT) when the kernel has no such tracepoint; SyntaxError as
 * {@link parseTracepointFormat}
 */
export function readTracepointFormat(group: string, name: string): TracepointField[] {
  const path = `${tracefsDir()}/events/${group}/${name}/format`;
  return parseTracepointFormat(readFileSync(path, "utf8"), path);
}

/**
 * The field called `name`, with `size` checked when given.
 *
 * @throws Error naming the tracepoint when the field is missing or has another size
 */
export function tracepointField(
  fields: readonly TracepointField[],
  name: string,
  where: string,
  size?: number,
): TracepointField {
  const f = fields.find((x) => x.name === name);
  if (!f) throw new Error(`${where}: the record has no field '${name}'`);
  if (size !== undefined && f.size !== size) {
    throw new Error(`${where}: field '${name}' is ${f.size} bytes, expected ${size}`);
  }
  return f;
}
