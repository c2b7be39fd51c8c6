/**
 * BPF iterators: an iterator program (`SEC("iter/task")`, `iter/bpf_map_elem`, ...)
 * attached as an iter link runs when a descriptor made from that link with
 * BPF_ITER_CREATE is read — each read(2) walks on through the kernel objects and
 * returns what the program wrote with bpf_seq_printf / bpf_seq_write, and 0 at the end.
 *
 * `openIterator(link)` gives that descriptor as a {@link BpfIterator}: `read()` one
 * chunk, `readAll()` everything as text, or `for await` over the chunks. Each
 * BPF_ITER_CREATE starts a new walk; the iterator is closed with its link.
 *
 * @module
 */

import { read as readAsync, readSync } from "node:fs";
import { BpfCmd, bpfAttr, LinkType, linkTypeName } from "../../uapi/index.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import { BpfCall, Fd, SyscallError } from "../sys/index.ts";
import type { Link } from "./link.ts";
import { linkInfoByFd } from "./link-info.ts";

/** How many bytes one {@link BpfIterator.read} asks for by default. */
export const ITER_READ_SIZE = 64 * 1024;

/** Options of {@link openIterator}. */
export interface IteratorOptions {
  /** Bytes asked for per read(2) (default {@link ITER_READ_SIZE}). */
  readonly chunkSize?: number;
}

/**
 * BPF_ITER_CREATE: a new readable descriptor for the iter link `linkFd`
 * (`bpfAttr.iterCreate`: `link_fd`, `flags` 0). `what` names the link in errors.
 *
 * @throws SyscallError naming the link (EINVAL: not an iter link, or a kernel
 * without BPF_ITER_CREATE).
 */
export function iterCreate(linkFd: number, what: string): Fd {
  const call = new BpfCall(BpfCmd.ITER_CREATE, bpfAttr.iterCreate);
  call.u32("link_fd", linkFd).u32("flags", 0);
  return new Fd(call.invoke(`iter create (${what})`));
}

/**
 * A readable BPF iterator: each read runs the iterator program over the next kernel
 * objects. Closed by {@link close}, `using`, or when its link closes.
 *
 * @example
 * ```ts
 * using link = attachProgram(prog, spec); // SEC("iter/task")
 * using it = openIterator(link);
 * for (const line of it.readAll().split("\n")) console.log(line);
 * ```
 */
export class BpfIterator implements Disposable, AsyncIterable<Uint8Array> {
  /** The iterator's descriptor (from BPF_ITER_CREATE). */
  readonly fd: Fd;
  /** The link it was made from, for messages. */
  readonly description: string;
  readonly #chunkSize: number;
  readonly #untie: () => void;
  #done = false;

  /** @internal Use {@link openIterator}. */
  constructor(fd: Fd, description: string, chunkSize: number, untie: () => void) {
    this.fd = fd;
    this.description = description;
    this.#chunkSize = chunkSize;
    this.#untie = untie;
  }

  /** True once the walk reached its end (a read returned nothing). */
  get done(): boolean {
    return this.#done;
  }

  /**
   * One read(2) of up to `size` bytes: what the program wrote for the next objects;
   * an empty array at the end of the walk.
   * @throws Error naming the iterator and the errno when the read fails (a program
   * error, or the iterator was closed).
   */
  read(size: number = this.#chunkSize): Uint8Array {
    if (this.#done) return new Uint8Array(0);
    const buf = new Uint8Array(size);
    let n: number;
    try {
      n = readSync(this.#value(), buf, 0, size, null);
    } catch (e) {
      throw this.#readError(e);
    }
    if (n === 0) this.#done = true;
    return buf.subarray(0, n);
  }

  /** Every remaining byte of the walk. */
  readAllBytes(): Uint8Array {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let c = this.read(); c.length > 0; c = this.read()) {
      chunks.push(c);
      total += c.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Every remaining byte of the walk, as UTF-8 text (bpf_seq_printf output). */
  readAll(): string {
    return new TextDecoder().decode(this.readAllBytes());
  }

  /**
   * The walk's chunks, read without blocking the event loop (one read(2) on libuv's
   * thread pool per chunk); ends at the end of the walk.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    while (!this.#done) {
      const fd = this.#value();
      const buf = new Uint8Array(this.#chunkSize);
      const n = await new Promise<number>((resolve, reject) => {
        readAsync(fd, buf, 0, buf.length, null, (err, bytes) =>
          err ? reject(this.#readError(err)) : resolve(bytes),
        );
      });
      if (n === 0) {
        this.#done = true;
        return;
      }
      yield buf.subarray(0, n);
    }
  }

  /** Closes the descriptor (the link stays). Safe to call more than once. */
  close(): void {
    this.fd.close();
    this.#untie();
  }

  /** True once closed (by itself or with its link). */
  get closed(): boolean {
    return this.fd.closed;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** `iterator on iterator (dump_task) link`. */
  toString(): string {
    return `iterator on ${this.description} link`;
  }

  #value(): number {
    if (this.fd.closed) throw new Error(`${this}: read after close`);
    return this.fd.value;
  }

  #readError(e: unknown): Error {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    return new Error(`reading ${this}: ${code ? `${code}: ` : ""}${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * Makes a readable iterator from an iter link (an iterator program attached with
 * `attachIter` or `attachProgram`). Each call starts a new walk. The iterator is
 * closed when the link is.
 *
 * @throws TypeError when the link is not an iterator link (naming its type);
 * NotSupportedError for a perf-event attachment without a bpf_link, or a kernel that
 * refuses BPF_ITER_CREATE on an iter link; SyscallError otherwise.
 * @example
 * ```ts
 * using it = openIterator(link);
 * for await (const chunk of it) process.stdout.write(chunk);
 * ```
 */
export function openIterator(link: Link, opts: IteratorOptions = {}): BpfIterator {
  const chunkSize = opts.chunkSize ?? ITER_READ_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  }
  if (link.closed) throw new Error(`cannot open an iterator on ${link}: it is closed`);
  const linkFd = link.fd; // NotSupportedError for a link without bpf_link
  let fd: Fd;
  try {
    fd = iterCreate(linkFd, link.description);
  } catch (e) {
    if (!(e instanceof SyscallError) || e.code !== "EINVAL") throw e;
    const type = linkInfoByFd(linkFd).type;
    if (type !== LinkType.ITER) {
      throw new TypeError(
        `cannot open an iterator on ${link}: it is a ${linkTypeName(type) ?? `type ${type}`} link, not an iter link (attach an SEC("iter/...") program)`,
      );
    }
    throw new NotSupportedError(
      `BPF_ITER_CREATE on ${link}`,
      "the kernel answered EINVAL for an iter link",
      e.errno,
    );
  }
  let untie: () => void = () => {};
  const it = new BpfIterator(fd, link.description, chunkSize, () => untie());
  untie = link.adopt(it);
  return it;
}
