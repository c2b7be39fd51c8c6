/**
 * Event-loop readiness for readers of kernel records (ring buffers, perf buffers,
 * trace_pipe): one {@link RecordReader} gives each of them the same three ways to
 * read — a synchronous drain, a callback, an async iterator — over a
 * {@link RecordSource} that knows how to read its records without blocking.
 *
 * Waiting costs no thread: every descriptor of a source is watched by the event loop's
 * own epoll (a libuv poll handle, see sys/fd-watch.ts), so any number of rings share
 * the one loop, and a reader that is not waiting holds no active handle — the process
 * exits when nothing else keeps it alive.
 *
 * @module
 */
import { FdWatch } from "../sys/fd-watch.ts";

/** Records that can be read without blocking, and the descriptors that signal more. */
export interface RecordSource<T> {
  /** Descriptors whose readability means records may be available. */
  readonly fds: readonly number[];
  /**
   * The next available record, or undefined when there is none right now. What it
   * returns may point into the source's memory until {@link release}.
   */
  next(): T | undefined;
  /**
   * Hands the space of every record returned by {@link next} back to the producer.
   * With `all` false the source may keep publishing some of it for later (fewer
   * stores to memory the producer reads); with `all` true or omitted it must publish
   * everything (a reader does before it waits: a ring buffer producer wakes the reader
   * only when the consumer has caught up).
   */
  release(all?: boolean): void;
  /**
   * Delivers every available record (at most `max`) to `cb`, releasing each once `cb`
   * returns or throws; returns how many were delivered.
   */
  drain(cb: (rec: T) => void, max?: number): number;
  /** A copy of `rec` that stays valid after release. */
  copy(rec: T): T;
  /**
   * {@link drain} delivering copies, when the source can copy more cheaply than
   * `copy(rec)` of each record (one allocation instead of a view and a copy).
   */
  drainCopies?(cb: (rec: T) => void, max?: number): number;
  /**
   * {@link next} as a copy, when the source can copy more cheaply than `copy(next())`
   * (one allocation instead of a view and a copy).
   */
  nextCopy?(): T | undefined;
  /**
   * True when polling the descriptors consumes their readiness (perf events: each
   * wake-up is reported once). Such watches are never stopped and restarted while the
   * reader lives — re-arming a watch polls the descriptor twice, and the second poll
   * would find the wake-up gone — only unref'd while nobody waits.
   */
  readonly oneShotReadiness?: boolean;
  /** Releases the source's resources (mappings, descriptors). */
  close(): void;
}

/** Options shared by every {@link RecordReader}. */
export interface RecordReaderOptions {
  /**
   * Deliver zero-copy views of the kernel's memory instead of copies (default false:
   * copies). A view is valid only until the next read from the reader, and it lies
   * over pages the kernel does not let user space write (ring buffer data pages are
   * mapped read-only, perf ring data pages fault on a write): **a write to it kills the
   * process** (SIGSEGV, SIGBUS), which no JavaScript can catch. Opt in only for the last
   * nanoseconds, in code that never writes to a record and never keeps one.
   */
  readonly zeroCopy?: boolean;
  /**
   * @deprecated copies are the default now; `copy: true` changes nothing, and
   * `copy: false` does not give views (that takes {@link zeroCopy}).
   */
  readonly copy?: boolean;
}

type Mode = "idle" | "callback" | "iterate";

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Reads records from a {@link RecordSource} three ways — pick one per reader:
 *
 * - `read()` / `readAvailable()`: synchronous, never waits;
 * - `onRecord(cb)`: `cb` runs for each record as the event loop sees the source ready;
 * - `for await (const rec of reader)`: waits on the event loop, ends on `close()`.
 *
 * **Records are copies** by default: plain arrays, safe to keep and to write to. With
 * `zeroCopy: true` a record's bytes are a view into the kernel's ring instead: valid
 * until the next read from this reader (the next `read()`, `readAvailable()`, iteration
 * step, or the return of the `onRecord` callback) or `release()`, and read-only in a
 * way JavaScript cannot enforce: a write to such a view kills the process.
 *
 * `close()` stops waiting, ends iteration, and releases the source; the reader holds
 * the event loop open only while it waits (callback mode, or an iteration step in
 * progress), and not even then after `unref()`.
 */
export class RecordReader<T> implements AsyncIterable<T>, Disposable {
  readonly #source: RecordSource<T>;
  readonly #label: string;
  readonly #copy: boolean;
  #watches: FdWatch[] = [];
  #mode: Mode = "idle";
  #closed = false;
  #refed = true;
  /** The watches are started for someone (a callback, a pending iteration step). */
  #waiting = false;
  /** Callback mode's delivery: every available record to the callback (see {@link onDrain}). */
  #drainAll: (() => void) | undefined;
  #onError: ((err: Error) => void) | undefined;
  #pending:
    | { resolve: (r: IteratorResult<T, undefined>) => void; reject: (e: Error) => void }
    | undefined;

  /**
   * @param source what to read; the reader owns it and closes it.
   * @param label names the reader in errors (`ring buffer "events"`).
   */
  constructor(source: RecordSource<T>, label: string, opts: RecordReaderOptions = {}) {
    this.#source = source;
    this.#label = label;
    this.#copy = opts.zeroCopy !== true;
  }

  /** True once {@link close} has run. */
  get closed(): boolean {
    return this.#closed;
  }

  #ensureOpen(what: string): void {
    if (this.#closed) throw new Error(`${what} on ${this.#label}: the reader is closed`);
  }

  #claim(mode: Mode, what: string): void {
    this.#ensureOpen(what);
    if (this.#mode !== "idle" && this.#mode !== mode) {
      throw new Error(
        `${what} on ${this.#label}: the reader is already used ${this.#mode === "callback" ? "with onRecord()" : "by an async iterator"}; use one way of reading per reader`,
      );
    }
    this.#mode = mode;
  }

  /**
   * Releases records read so far (their views become invalid; the producer may reuse
   * their space). Reads release what came before by themselves.
   */
  release(): void {
    if (!this.#closed) this.#source.release();
  }

  /** The next available record, or undefined when none is there now. Never waits. */
  read(): T | undefined {
    this.#ensureOpen("read()");
    if (this.#mode === "callback") this.#claim("idle", "read()");
    const src = this.#source;
    src.release(false);
    const r = this.#next();
    if (r === undefined) src.release();
    return r;
  }

  /** The source's next record as this reader hands it out: a copy unless `zeroCopy`. */
  #next(): T | undefined {
    const src = this.#source;
    if (!this.#copy) return src.next();
    if (src.nextCopy) return src.nextCopy();
    const r = src.next();
    return r === undefined ? undefined : src.copy(r);
  }

  /**
   * The source, for a subclass's own synchronous read (as {@link readAvailable}: not
   * while a callback reads; every record read before released).
   */
  protected syncSource(what: string): RecordSource<T> {
    this.#ensureOpen(what);
    if (this.#mode === "callback") this.#claim("idle", what);
    this.#source.release();
    return this.#source;
  }

  /**
   * Every record available now, in order (at most `max`). Never waits. Views stay
   * valid until the next read or {@link release}, so they hold ring space meanwhile.
   */
  readAvailable(max = Infinity): T[] {
    this.#ensureOpen("readAvailable()");
    if (this.#mode === "callback") this.#claim("idle", "readAvailable()");
    const src = this.#source;
    src.release();
    const out: T[] = [];
    while (out.length < max) {
      const r = this.#next();
      if (r === undefined) break;
      out.push(r);
    }
    if (this.#copy) src.release();
    return out;
  }

  /**
   * Calls `cb` for each record from now on, as the event loop sees the source ready
   * (records already waiting come first, on a later tick). The record is valid during
   * the call only (with `zeroCopy`). An exception from `cb` goes to `onError` if given,
   * else it is rethrown as an uncaught exception; the record counts as read either way.
   * Keeps the process alive until {@link close} or {@link unref}.
   */
  onRecord(cb: (rec: T) => void, onError?: (err: Error) => void): this {
    const src = this.#source;
    const copies = src.drainCopies;
    let drainAll: () => void;
    if (!this.#copy) drainAll = () => src.drain(cb);
    else if (copies) drainAll = () => copies.call(src, cb);
    else drainAll = () => src.drain((r) => cb(src.copy(r)));
    return this.onDrain("onRecord()", drainAll, onError);
  }

  /**
   * Callback mode with a subclass's own delivery: `drainAll` runs each time the event
   * loop sees the source ready (and once for the records already waiting), and must
   * read every record available and release them. An exception from it goes where
   * {@link onRecord}'s would.
   */
  protected onDrain(what: string, drainAll: () => void, onError?: (err: Error) => void): this {
    this.#claim("callback", what);
    if (this.#drainAll) throw new Error(`${what} on ${this.#label}: a callback is already set`);
    this.#drainAll = drainAll;
    this.#onError = onError;
    this.#startWatches(); // its re-check delivers the records already waiting
    return this;
  }

  #deliver(): void {
    const drainAll = this.#drainAll;
    if (!drainAll || this.#closed) return;
    try {
      drainAll();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (this.#onError) this.#onError(err);
      else
        process.nextTick(() => {
          throw err;
        });
    }
  }

  /** One iteration step: the next record, waiting for it; done once the reader is closed. */
  #step(): Promise<IteratorResult<T, undefined>> {
    if (this.#closed) return Promise.resolve(DONE);
    if (this.#pending) {
      return Promise.reject(new Error(`${this.#label}: an iteration step is already waiting`));
    }
    const src = this.#source;
    src.release(false);
    const r = this.#next();
    if (r !== undefined) return Promise.resolve({ done: false, value: r });
    src.release();
    return new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#startWatches();
    });
  }

  #onReady(): void {
    if (this.#closed) return;
    if (this.#mode === "callback") {
      this.#deliver();
      return;
    }
    const p = this.#pending;
    if (!p) {
      // a one-shot source's wake-up for data the next read finds anyway
      if (this.#waiting) this.#stopWatches();
      return;
    }
    let r: T | undefined;
    try {
      r = this.#next();
    } catch (e) {
      this.#pending = undefined;
      this.#stopWatches();
      p.reject(e as Error);
      return;
    }
    if (r === undefined) return; // spurious, or a record still being written
    this.#pending = undefined;
    this.#stopWatches();
    p.resolve({ done: false, value: r });
  }

  #onEvent(fd: number, status: number): void {
    if (status < 0) {
      const err = new Error(`${this.#label}: polling fd ${fd} failed (libuv status ${status})`);
      const p = this.#pending;
      this.#pending = undefined;
      this.#stopWatches();
      if (p) p.reject(err);
      else if (this.#onError) this.#onError(err);
      else
        process.nextTick(() => {
          throw err;
        });
      return;
    }
    this.#onReady();
  }

  /**
   * Makes the loop wait on the source, then looks at the source once more after the
   * loop has armed the watches. libuv adds a descriptor to its epoll only at the start
   * of its next poll phase, and for a perf event that poll is the one that takes the
   * wake-up (perf_poll hands each out once): epoll_wait's own poll of it finds
   * nothing, so records written between here and then would wait for the next
   * wake-up, which may never come. The look is an immediate queued from an immediate:
   * the first runs after the current poll phase, which may have begun before this call
   * (when it runs from an I/O callback), the second after the next one, which armed
   * the watches.
   */
  #startWatches(): void {
    if (this.#watches.length === 0) {
      for (const fd of this.#source.fds) {
        this.#watches.push(new FdWatch(fd, (ev) => this.#onEvent(fd, ev.status)));
      }
    }
    this.#waiting = true;
    for (const w of this.#watches) {
      w.start();
      if (this.#refed) w.ref();
      else w.unref();
    }
    setImmediate(() =>
      setImmediate(() => {
        if (this.#waiting) this.#onReady();
      }),
    );
  }

  #stopWatches(): void {
    this.#waiting = false;
    const oneShot = this.#source.oneShotReadiness === true;
    for (const w of this.#watches) {
      if (oneShot) w.unref();
      else w.stop();
    }
  }

  /**
   * The async iterator: one record per step; it ends when the reader is closed.
   * Leaving a `for await` loop early (`break`) does not close the reader.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    this.#claim("iterate", "async iteration");
    // hand-written rather than an async generator: one promise per step, not three
    const it: AsyncIterableIterator<T> = {
      next: () => this.#step(),
      return: () => Promise.resolve(DONE),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** Lets the process exit while this reader waits (like `socket.unref()`). */
  unref(): this {
    this.#refed = false;
    for (const w of this.#watches) w.unref();
    return this;
  }

  /** Undoes {@link unref}. */
  ref(): this {
    this.#refed = true;
    if (this.#waiting) for (const w of this.#watches) w.ref();
    return this;
  }

  /**
   * Stops waiting, ends a pending iteration step (it resolves as done), releases the
   * event-loop handles, marks the records read so far as consumed, then closes the
   * source (mappings and descriptors). Views read from
   * the reader must not be used afterwards (they read zeros). Safe to call twice.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#watches) w.close();
    this.#watches = [];
    this.#drainAll = undefined;
    const p = this.#pending;
    this.#pending = undefined;
    try {
      this.#source.release(); // what was read counts as read
      this.#source.close();
    } finally {
      p?.resolve(DONE);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
