/**
 * A request/response netlink socket: sends one message and collects what answers it
 * (its sequence number), turning an NLMSG_ERROR into a {@link NetlinkError} that carries
 * the kernel's extended ACK message — the words iproute2 prints after `Error:`.
 *
 * @module
 */
import {
  type Fd,
  NetlinkOption,
  netlinkReceive,
  netlinkSend,
  openNetlinkSocket,
  SyscallError,
} from "../sys/index.ts";
import {
  type MessageWriter,
  type NetlinkAck,
  type NetlinkMessage,
  NlmFlags,
  NlmsgType,
  parseAck,
  parseDone,
  parseMessages,
} from "./message.ts";

/**
 * A message with its own copy of the payload. (Copied with new + set, and built as a
 * literal: on Node 20 both `slice()` of a large view and `{ ...m, payload }` took slow
 * paths, microseconds each.)
 */
function copyMessage(m: NetlinkMessage): NetlinkMessage {
  const payload = new Uint8Array(m.payload.length);
  payload.set(m.payload);
  return { type: m.type, flags: m.flags, seq: m.seq, pid: m.pid, payload };
}

/** Netlink protocol families tsbpf speaks. */
export const NetlinkProtocol = { ROUTE: 0 } as const;

/**
 * The kernel refused a netlink request. `errno`/`code` as for any system call;
 * `kernelMessage` is the extended ACK (e.g. "XDP program already attached"), which
 * the error message also shows.
 */
export class NetlinkError extends SyscallError {
  override readonly name: string = "NetlinkError";
  readonly kernelMessage: string | undefined;

  constructor(ack: NetlinkAck, operation: string) {
    super(ack.errno, operation, ack.message && `kernel: ${ack.message}`);
    this.kernelMessage = ack.message;
  }
}

/** A netlink socket for requests to the kernel. Close it, or use `using`. */
export class NetlinkSocket {
  readonly #fd: Fd;
  #seq: number;

  constructor(protocol: number = NetlinkProtocol.ROUTE) {
    this.#fd = openNetlinkSocket(protocol, [NetlinkOption.EXT_ACK, NetlinkOption.CAP_ACK]);
    // Start somewhere a previous socket's stale answer would not match.
    this.#seq = (Date.now() & 0xffffff) << 4;
  }

  /**
   * Sends `msg` (flags should include REQUEST and ACK) and returns the messages that
   * answer it, once the kernel acknowledged it — each passed through `decode` while its
   * bytes are still in the receive buffer (without `decode`, a copy of each).
   * @throws NetlinkError when the kernel answered with an error.
   */
  request(msg: MessageWriter, operation: string): NetlinkMessage[];
  request<T>(msg: MessageWriter, operation: string, decode: (m: NetlinkMessage) => T): T[];
  request<T>(
    msg: MessageWriter,
    operation: string,
    decode?: (m: NetlinkMessage) => T,
  ): (T | NetlinkMessage)[] {
    return this.#exchange<T | NetlinkMessage>(msg, operation, false, decode ?? copyMessage);
  }

  /**
   * Sends a dump request (flags should include REQUEST and DUMP) and returns every
   * message of the dump, up to NLMSG_DONE, each through `decode` as for {@link request}.
   */
  dump(msg: MessageWriter, operation: string): NetlinkMessage[];
  dump<T>(msg: MessageWriter, operation: string, decode: (m: NetlinkMessage) => T): T[];
  dump<T>(
    msg: MessageWriter,
    operation: string,
    decode?: (m: NetlinkMessage) => T,
  ): (T | NetlinkMessage)[] {
    return this.#exchange<T | NetlinkMessage>(msg, operation, true, decode ?? copyMessage);
  }

  #exchange<T>(
    msg: MessageWriter,
    operation: string,
    dump: boolean,
    decode: (m: NetlinkMessage) => T,
  ): T[] {
    // A request ends with its acknowledgement, a dump with NLMSG_DONE: without them
    // there is no telling when the answer is complete.
    const want = dump ? NlmFlags.DUMP : NlmFlags.ACK;
    if ((msg.flags & want) !== want)
      throw new Error(
        `${operation}: a netlink ${dump ? "dump" : "request"} needs NLM_F_${dump ? "DUMP" : "ACK"}`,
      );
    this.#seq = (this.#seq + 1) >>> 0;
    const seq = this.#seq;
    netlinkSend(this.#fd, msg.finish(seq));
    const out: T[] = [];
    for (;;) {
      // Views of the receive buffer, valid until the next receive.
      // A request is answered by at most two datagrams (answer, acknowledgement).
      for (const datagram of netlinkReceive(this.#fd, dump ? 4 : 2)) {
        for (const m of parseMessages(datagram)) {
          if (m.seq !== seq) continue; // an answer to an earlier, abandoned request
          if (m.type === NlmsgType.ERROR) {
            const ack = parseAck(m);
            if (ack.errno !== 0) throw new NetlinkError(ack, operation);
            if (!dump) return out;
            continue;
          }
          if (m.type === NlmsgType.DONE) {
            const err = parseDone(m);
            if (err) throw new NetlinkError(err, operation);
            return out;
          }
          if (m.type === NlmsgType.NOOP) continue;
          if (m.type === NlmsgType.OVERRUN)
            throw new Error(`${operation}: the kernel's netlink answer overran`);
          out.push(decode(m));
        }
      }
    }
  }

  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
