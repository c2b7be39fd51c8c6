/**
 * Where the CLI writes: plain text to stdout, JSON (with `-j`/`-p`) through one
 * bpftool-compatible {@link JsonWriter}, errors as bpftool prints them — `Error: ...` on
 * stderr in plain mode, `{"error":"..."}` on stdout in JSON mode — and the exit code
 * (255 on error, as bpftool's `return -1` becomes, 0 on success).
 */
import { writeSync } from "node:fs";
import { type JsonValue, JsonWriter } from "./json-writer.ts";

/** Exit status of a failed command: bpftool returns -1 from main(). */
export const EXIT_FAILURE = 255;

/**
 * A command failed; `message` is printed after `Error: ` (or as the JSON "error"); an
 * empty message means the output already said it.
 *
 * `exitCode` is 255 unless bpftool exits differently for this failure: where it
 * returns libbpf's `-errno` (failed element operations, pins) the shell sees
 * `256 - errno`, e.g. 254 for a lookup that finds nothing; {@link exitForErrno} gives
 * that.
 */
export class CliError extends Error {
  override readonly name: string = "CliError";
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The exit status of a C `main` returning `-errno`. */
export function exitForErrno(errno: number | undefined): number {
  return errno && errno > 0 ? -errno & 0xff || EXIT_FAILURE : EXIT_FAILURE;
}

/**
 * The command line does not parse: print the current object's usage (to stderr; `null`
 * in JSON mode) and exit with 255, as bpftool's usage() does. When `message` is not
 * empty it is printed as an error first.
 */
export class UsageError extends Error {
  override readonly name: string = "UsageError";
  constructor(message = "") {
    super(message);
  }
}

/**
 * A word names no object or command: the message says which and what was probably
 * meant; `hint` (printed after it in plain mode) says where the list is.
 */
export class UnknownWordError extends CliError {
  override readonly name: string = "UnknownWordError";
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

/** Global options shared by every command. */
export interface GlobalOptions {
  /** `-j`/`--json` (also set by `-p`). */
  readonly json: boolean;
  /** `-p`/`--pretty`. */
  readonly pretty: boolean;
  /** `-f`/`--bpffs`: show pinned paths. */
  readonly bpffs: boolean;
  /** `-d`/`--debug`: verifier logs and more detail on stderr. */
  readonly debug: boolean;
  /** `-B`/`--base-btf FILE`: base BTF for split BTF (`btf dump`). */
  readonly baseBtf?: string | undefined;
}

const FLUSH_AT = 1 << 16;

/** Buffered output for one CLI invocation. */
export class Output {
  readonly json: boolean;
  /** The JSON writer (only meaningful when {@link json} is set). */
  readonly w: JsonWriter;
  #chunks: string[] = [];
  #size = 0;
  #fd: number;
  #errFd: number;
  #stdoutClosed = false;

  constructor(opts: { json: boolean; pretty: boolean }, fds: { out?: number; err?: number } = {}) {
    this.json = opts.json;
    this.#fd = fds.out ?? 1;
    this.#errFd = fds.err ?? 2;
    this.w = new JsonWriter((s) => this.write(s), opts.pretty);
  }

  /** Appends text to stdout (buffered). */
  write(text: string): void {
    this.#chunks.push(text);
    this.#size += text.length;
    if (this.#size >= FLUSH_AT) this.flush();
  }

  /** Writes a JSON value through the shared writer. */
  value(v: JsonValue): void {
    this.w.value(v);
  }

  /** bpftool's p_info: a note on stderr, silent in JSON mode. */
  info(text: string): void {
    if (this.json) return;
    this.flush();
    writeAll(this.#errFd, `${text}\n`);
  }

  /** bpftool's p_err. */
  error(message: string): void {
    if (this.json) {
      this.w.startObject().field("error", message).endObject();
    } else {
      this.flush();
      writeAll(this.#errFd, `Error: ${message}\n`);
    }
  }

  /** Text for stderr regardless of mode (help, debug logs). */
  stderr(text: string): void {
    this.flush();
    writeAll(this.#errFd, text);
  }

  /** Writes everything buffered so far. */
  flush(): void {
    if (this.#chunks.length === 0) return;
    const text = this.#chunks.join("");
    this.#chunks = [];
    this.#size = 0;
    if (!writeAll(this.#fd, text)) this.#stdoutClosed = true;
  }

  /**
   * True once a write found stdout's reader gone (EPIPE: `tsbpf trace open | head`);
   * commands that stream stop then, as a C tool dies of SIGPIPE.
   */
  get stdoutClosed(): boolean {
    return this.#stdoutClosed;
  }

  /** Ends the invocation: closes open JSON containers and adds bpftool's final newline. */
  finish(): void {
    if (this.json) {
      this.w.closeAll();
      this.write("\n");
    }
    this.flush();
  }
}

/** Writes all of `text`; false when the reader is gone (EPIPE). */
function writeAll(fd: number, text: string): boolean {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") continue;
      if (code === "EPIPE") return false;
      throw e;
    }
  }
  return true;
}
