/**
 * Readiness of a file descriptor on Node's event loop, with no thread: koffi wraps a
 * libuv `uv_poll_t`, so the loop's own epoll waits on the fd and a callback runs on
 * the main thread when it becomes readable. Also `dup`, so readers can own their
 * descriptor independently of the object they read.
 *
 * @module
 */

import { SyscallError } from "./errors.ts";
import { Fd } from "./fd.ts";
import { koffi } from "./koffi.ts";

const libc = koffi.load("libc.so.6");
const fcntl = libc.func("int fcntl(int fd, int cmd, int arg)") as (
  fd: number,
  cmd: number,
  arg: number,
) => number;
const F_DUPFD_CLOEXEC = 1030;

type PollHandle = ReturnType<typeof koffi.node.poll>;
/** koffi's declared callback type (it really passes `(status, events)`). */
type PollCallback = Parameters<PollHandle["start"]>[0];

/**
 * A second descriptor for the same open file (`fcntl(F_DUPFD_CLOEXEC)`), owned by the
 * caller.
 * @throws SyscallError naming `what`.
 */
export function dupFd(fd: number, what: string): Fd {
  const r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (r < 0) throw new SyscallError(koffi.errno(), `dup ${what} (fd ${fd})`);
  return new Fd(r);
}

/** What the event loop saw on a watched descriptor. */
export interface FdEvents {
  readonly readable: boolean;
  /** The other side hung up or the object died (EPOLLHUP/EPOLLRDHUP). */
  readonly disconnect: boolean;
  /** A libuv error (negative errno) when polling failed, else 0. */
  readonly status: number;
}

/**
 * A watch on one descriptor's readability. Created stopped; {@link start} makes the
 * event loop wait on it (and keeps the process alive, unless {@link unref}'d),
 * {@link stop} stops waiting, {@link close} releases the libuv handle. Close the watch
 * before closing the descriptor.
 */
export class FdWatch {
  #handle: PollHandle | null;
  #active = false;
  #refed = true;
  readonly #cb: (status: number, ev: { readable: boolean; disconnect: boolean }) => void;

  /**
   * Watches `fd`; `onEvent` runs on the main thread each time the loop sees it ready.
   *
   * koffi calls its poll callback straight from libuv, outside Node's callback scope,
   * so promises resolved there would settle only at the next unrelated event: a
   * consumer's `await` could resume after a timer or signal handler had already run
   * (and, say, closed the ring its record lives in). `onEvent` therefore runs from
   * `setImmediate`, in the same loop iteration, with the microtask queue drained after it.
   */
  constructor(fd: number, onEvent: (ev: FdEvents) => void) {
    let scheduled = false;
    this.#cb = (status, ev) => {
      const events: FdEvents = {
        readable: ev?.readable === true,
        disconnect: ev?.disconnect === true,
        status: typeof status === "number" ? status : 0,
      };
      if (scheduled) return; // level-triggered: the pending call will see the fd as it is
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        if (this.#handle) onEvent(events);
      });
    };
    // koffi calls back with (status, events), whatever its typings say.
    const cb = this.#cb as unknown as PollCallback;
    const handle = koffi.node.poll(fd, { readable: true, disconnect: true }, cb);
    if (!handle) throw new Error(`cannot watch fd ${fd} on the event loop (uv_poll_start failed)`);
    handle.stop();
    this.#handle = handle;
  }

  /** True while the loop waits on the descriptor. */
  get active(): boolean {
    return this.#active;
  }

  /** Starts (or keeps) waiting for readability. */
  start(): void {
    const h = this.#handle;
    if (!h || this.#active) return;
    h.start({ readable: true, disconnect: true }, this.#cb as unknown as PollCallback);
    this.#active = true;
  }

  /** Stops waiting; the watch no longer keeps the process alive. */
  stop(): void {
    const h = this.#handle;
    if (!h || !this.#active) return;
    h.stop();
    this.#active = false;
  }

  /** Lets the process exit while the watch is active (like `socket.unref()`). */
  unref(): void {
    if (!this.#handle || !this.#refed) return;
    this.#handle.unref();
    this.#refed = false;
  }

  /** Undoes {@link unref}. */
  ref(): void {
    if (!this.#handle || this.#refed) return;
    this.#handle.ref();
    this.#refed = true;
  }

  /** Releases the libuv handle. Safe to call more than once. */
  close(): void {
    const h = this.#handle;
    if (!h) return;
    this.#handle = null;
    this.#active = false;
    h.close();
  }
}
