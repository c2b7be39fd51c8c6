/**
 * Reading a file a user named (an object, a BTF blob, a packet) without letting the
 * name make the reader crawl: `/dev/zero` or `/dev/urandom` never end, and a FIFO or
 * stdin can pour in more than any format allows. One helper for every CLI and API path
 * that reads a user's file.
 *
 * | input                        | what happens                                    |
 * |------------------------------|-------------------------------------------------|
 * | regular file                 | size checked against the cap before reading     |
 * | FIFO, socket, stdin (fd 0)   | read in chunks, refused once past the cap       |
 * | character/block device, dir  | refused before reading ("not a regular file")   |
 *
 * Caps used by tsbpf (each the most its format can need, with room to spare):
 * {@link MAX_OBJECT_BYTES} for ELF objects and BTF files, {@link MAX_DATA_BYTES} for
 * BPF_PROG_TEST_RUN input (data_in, ctx_in), {@link MAX_TEXT_BYTES} for program text.
 *
 * @module
 */

import { closeSync, fstatSync, openSync, readSync, type Stats } from "node:fs";

/**
 * ELF objects and BTF files: 1 GiB. A vmlinux image with debug info (whose `.BTF`
 * `btf dump file` reads) is a few hundred MB; a BPF object is KBs to a few MB.
 */
export const MAX_OBJECT_BYTES = 1 << 30;
/**
 * BPF_PROG_TEST_RUN input (data_in, ctx_in): 16 MiB. The fields are u32, but the
 * kernel takes at most about a page of linear data, ~64 KiB with XDP fragments and
 * 64 KiB of syscall context.
 */
export const MAX_DATA_BYTES = 16 << 20;
/** Program text (hex or assembly on stdin): 64 MiB. */
export const MAX_TEXT_BYTES = 64 << 20;

/** A user's input file that could not be read, or was refused; `message` is one line. */
export class InputFileError extends Error {
  override readonly name = "InputFileError";
  /** The path as given (`-` for standard input). */
  readonly path: string;
  /** The errno code from the file system (`ENOENT`...), when that was the reason. */
  readonly code: string | undefined;
  /** errno number, when the file system gave one. */
  readonly errno: number | undefined;
  /** What is wrong, without the path ("is a character device, not a regular file"). */
  readonly detail: string;

  // `cause` is typed without @types/node's NodeJS.ErrnoException, so that the published
  // typings of tsbpf/kernel do not need @types/node
  constructor(path: string, detail: string, cause?: Error & { code?: string; errno?: number }) {
    super(`${path}: ${detail}`, cause ? { cause } : undefined);
    this.path = path;
    this.detail = detail;
    this.code = cause?.code;
    this.errno = cause?.errno === undefined ? undefined : Math.abs(cause.errno);
  }
}

function kindOf(st: Stats): string {
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isDirectory()) return "a directory";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

function sizeText(n: number): string {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)} GiB`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  return `${n} bytes`;
}

/** strerror-like text for a file-system error. */
function fsReason(e: NodeJS.ErrnoException): string {
  // Node's messages read "ENOENT: no such file or directory, open 'x'": keep the middle.
  const m = /^[A-Z0-9]+: (.*?)(, \w+ '.*')?$/.exec(e.message);
  const text = m?.[1] ?? e.message;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The bytes of `path` (`-` or fd 0 reads standard input), at most `limit` of them.
 *
 * @example
 * ```ts
 * const spec = loadCollectionSpec(readInputFile("prog.bpf.o", MAX_OBJECT_BYTES));
 * ```
 * @param what names the file's role in the errors ("BPF object", "data_in")
 * @throws {InputFileError} with a one-line message naming the path: it does not exist,
 * is a device or directory, or is larger than `limit`
 */
export function readInputFile(path: string, limit: number, what = "input"): Uint8Array {
  const stdin = path === "-";
  let fd: number;
  try {
    fd = stdin ? 0 : openSync(path, "r");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputFileError(path, `${fsReason(err)}`, err);
  }
  try {
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new InputFileError(path, `${fsReason(err)}`, err);
    }
    const streamed = st.isFIFO() || st.isSocket() || (stdin && !st.isFile());
    if (!st.isFile() && !streamed) {
      throw new InputFileError(path, `is ${kindOf(st)}, not a regular file`);
    }
    const tooBig = () =>
      new InputFileError(path, `larger than ${sizeText(limit)}, the most a ${what} may be`);
    if (st.isFile() && st.size > limit) throw tooBig();
    // Regular files are read to their end too: sysfs files report a size of 4096
    // whatever they hold, and a file may grow while it is read.
    const chunks: Uint8Array[] = [];
    let total = 0;
    let chunk = new Uint8Array(
      st.isFile() ? Math.min(Math.max(st.size, 4096) + 1, limit + 1) : 65536,
    );
    let used = 0;
    for (;;) {
      if (used === chunk.length) {
        chunks.push(chunk);
        chunk = new Uint8Array(Math.min(Math.max(65536, total), limit + 1 - total) || 1);
        used = 0;
      }
      let n: number;
      try {
        n = readSync(fd, chunk, used, chunk.length - used, null);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === "EAGAIN") continue;
        if (err.code === "EOF") break;
        throw new InputFileError(path, `${fsReason(err)}`, err);
      }
      if (n === 0) break;
      used += n;
      total += n;
      if (total > limit) throw tooBig();
    }
    chunks.push(chunk.subarray(0, used));
    if (chunks.length === 1) return chunks[0] as Uint8Array;
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  } finally {
    if (!stdin) closeSync(fd);
  }
}
