/**
 * `tsbpf_log.h` in the kernel: a {@link BpfLogger} reads a loaded object's `TSBPF_LOG`
 * ring buffer and formats each record in userspace, with the format strings the
 * object keeps in its `.rodata.tsbpf_log` section (per call site: level, function,
 * format) — what aya-log does for Rust programs, without trace_pipe.
 *
 * @module
 */
import type { LoadedCollection } from "../../spec/backend.ts";
import { LogDecoder, type LogOptions, logDroppedOf, logMapOf } from "../../spec/log-decoder.ts";
import { LOG_MAP_NAME } from "../../spec/log-sites.ts";
import { BpfMap } from "../maps/map.ts";
import { RingBufferReader } from "./ringbuf.ts";

/**
 * Reads the log records of a collection loaded in the kernel. Two ways, one per
 * logger: {@link start} delivers records as the event loop sees them (until
 * {@link close}); {@link drain} delivers what the ring holds now and never waits.
 *
 * Records go where the options say (`onRecord`, or a line such as
 * `[INFO  log_openat] pid=42 comm=bash` to `write`, `console.log` by default); a
 * record that does not decode goes to `onError` and never stops the reading.
 *
 * @example
 * ```ts
 * using coll = Collection.load(spec, { constants: logLevelConstants("info") });
 * using logger = BpfLogger.open(coll).start();
 * using _link = coll.programs.log_openat.attach();
 * ```
 */
export class BpfLogger implements Disposable {
  /** The decoder (call sites, counters of delivered, filtered and bad records). */
  readonly decoder: LogDecoder;
  /** The ring buffer reader underneath. */
  readonly reader: RingBufferReader;
  readonly #coll: LoadedCollection;

  private constructor(coll: LoadedCollection, decoder: LogDecoder, reader: RingBufferReader) {
    this.#coll = coll;
    this.decoder = decoder;
    this.reader = reader;
  }

  /**
   * A logger for `coll` (a `Collection`): reads its call sites and maps its ring. The
   * logger keeps its own descriptor of the ring; close it (or `using` it).
   *
   * @throws LogError when the collection has no `TSBPF_LOG` map or a malformed call
   * site; TypeError when `TSBPF_LOG` is not a kernel ring buffer.
   */
  static open(coll: LoadedCollection, opts: LogOptions = {}): BpfLogger {
    const map = logMapOf<unknown>(coll.maps);
    if (!(map instanceof BpfMap))
      throw new TypeError(
        `BpfLogger.open: ${LOG_MAP_NAME} is not a kernel map (for a VM collection, use VmLogger from tsbpf/vm)`,
      );
    const decoder = new LogDecoder(coll, opts);
    return new BpfLogger(coll, decoder, RingBufferReader.open(map));
  }

  /**
   * Delivers records as they arrive, on the event loop, until {@link close}; keeps
   * the process alive meanwhile (unless {@link unref}).
   */
  start(): this {
    this.reader.onRecord((bytes) => this.decoder.handle(bytes));
    return this;
  }

  /**
   * Delivers every record in the ring now; returns how many were read, bad and
   * filtered ones included. Not once {@link start} has run.
   */
  drain(): number {
    const records = this.reader.readAvailable();
    for (const bytes of records) this.decoder.handle(bytes);
    return records.length;
  }

  /** Records the programs dropped because the ring was full (`tsbpf_log_dropped`). */
  get dropped(): bigint {
    return logDroppedOf(this.#coll);
  }

  /** Lets the process exit while the logger waits for records. */
  unref(): this {
    this.reader.unref();
    return this;
  }

  /** Stops reading and unmaps the ring (records still in it are not delivered). */
  close(): void {
    this.reader.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
