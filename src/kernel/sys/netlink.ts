/**
 * AF_NETLINK sockets: the native half of src/kernel/netlink/. Opening a socket, sending
 * one request and receiving one datagram; the messages themselves are built and parsed
 * in plain TypeScript (src/kernel/netlink/message.ts).
 *
 * The libc functions are declared with integer parameters (addresses as numbers), like
 * {@link syscall4}, so koffi calls them on its fast path: a netlink round trip is two
 * calls, and `tsbpf net show` makes dozens.
 */

import { SyscallError } from "./errors.ts";
import { Fd } from "./fd.ts";
import { koffi } from "./koffi.ts";
import { allocNative, freeNative, lastErrno, type NativeMemory } from "./native.ts";
import { Socket, setsockopt, socket } from "./socket.ts";

const libc = koffi.load("libc.so.6");

const bind = libc.func("int bind(int fd, long addr, int len)") as (
  fd: number,
  addr: number,
  len: number,
) => number;
const send = libc.func("long send(int fd, long buf, unsigned long len, int flags)") as (
  fd: number,
  buf: number,
  len: number,
  flags: number,
) => number;
const recvmmsg = libc.func(
  "int recvmmsg(int fd, long msgvec, unsigned int vlen, int flags, long timeout)",
) as (fd: number, msgvec: number, vlen: number, flags: number, timeout: number) => number;

const { AF_NETLINK, SOCK_RAW, SOCK_CLOEXEC, SOL_SOCKET } = Socket;
// <asm-generic/socket.h>, <linux/netlink.h>
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const MSG_TRUNC = 0x20;
/** recvmmsg: wait for the first datagram only, then take what is already queued. */
const MSG_WAITFORONE = 0x10000;
const EINTR = 4;
const EAGAIN = 11;

/** Socket options tsbpf sets on a netlink socket (`SOL_NETLINK` level). */
export const NetlinkOption = {
  /** Acknowledgements carry no copy of the request's payload. */
  CAP_ACK: 10,
  /** Errors carry the kernel's extended ACK: a message and the offending attribute. */
  EXT_ACK: 11,
  /** Dump requests are checked strictly (unknown header fields are errors). */
  GET_STRICT_CHK: 12,
} as const;

/**
 * How long a receive waits before failing with EAGAIN. rtnetlink answers while the
 * request is being sent, so a reply that takes this long is a bug, not a slow kernel:
 * fail instead of blocking the event loop forever.
 */
const RECEIVE_TIMEOUT_S = 5;

/** One scratch buffer for requests and socket options (JavaScript is single-threaded); answers land in the receive area below. */
let scratch: NativeMemory | undefined;

function buffer(size: number): NativeMemory {
  if (!scratch || scratch.size < size) {
    if (scratch) freeNative(scratch);
    scratch = allocNative(Math.max(size, 1 << 18));
  }
  return scratch;
}

/**
 * The receive side: SLOTS datagram buffers of SLOT_SIZE bytes and the `struct mmsghdr`
 * array recvmmsg(2) fills, so one call takes an answer and its acknowledgement (two
 * datagrams) together. The kernel never puts more than 32 KiB in one netlink datagram.
 * Layouts (LP64: x86-64, arm64): iovec { base, len } 16 bytes; mmsghdr { msghdr (name,
 * namelen, iov, iovlen, control, controllen, flags: 56 bytes), msg_len } 64 bytes.
 */
const SLOTS = 4;
const SLOT_SIZE = 1 << 16;
const IOVEC = 16;
const MMSGHDR = 64;
const MSGHDR_IOV = 16;
const MSGHDR_IOVLEN = 24;
const MSGHDR_FLAGS = 48;
const MMSGHDR_LEN = 56;

interface ReceiveArea {
  readonly mem: NativeMemory;
  readonly view: DataView;
  readonly headers: number;
}
let receiveArea: ReceiveArea | undefined;

function receiveBuffers(): ReceiveArea {
  if (receiveArea) return receiveArea;
  const iovecs = SLOTS * SLOT_SIZE;
  const headers = iovecs + SLOTS * IOVEC;
  const mem = allocNative(headers + SLOTS * MMSGHDR);
  const view = new DataView(mem.bytes.buffer, mem.bytes.byteOffset, mem.size);
  for (let i = 0; i < SLOTS; i++) {
    const iov = iovecs + i * IOVEC;
    view.setBigUint64(iov, mem.address + BigInt(i * SLOT_SIZE), true);
    view.setBigUint64(iov + 8, BigInt(SLOT_SIZE), true);
    const h = headers + i * MMSGHDR;
    view.setBigUint64(h + MSGHDR_IOV, mem.address + BigInt(iov), true);
    view.setBigUint64(h + MSGHDR_IOVLEN, 1n, true);
  }
  receiveArea = { mem, view, headers };
  return receiveArea;
}

/**
 * Opens and binds a netlink socket of `protocol` (NETLINK_ROUTE is 0), the kernel
 * choosing its port id, with each option in `options` turned on.
 */
export function openNetlinkSocket(protocol: number, options: readonly number[] = []): Fd {
  const raw = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (raw < 0) throw new SyscallError(lastErrno(), `netlink socket (protocol ${protocol})`);
  const fd = new Fd(raw);
  try {
    const mem = buffer(16);
    const v = new DataView(mem.bytes.buffer, mem.bytes.byteOffset, 16);
    for (const opt of options) {
      v.setInt32(0, 1, true);
      if (setsockopt(raw, SOL_NETLINK, opt, mem.addr, 4) < 0)
        throw new SyscallError(lastErrno(), `netlink socket option ${opt}`);
    }
    // struct timeval { long tv_sec; long tv_usec; }
    v.setBigInt64(0, BigInt(RECEIVE_TIMEOUT_S), true);
    v.setBigInt64(8, 0n, true);
    if (setsockopt(raw, SOL_SOCKET, SO_RCVTIMEO, mem.addr, 16) < 0)
      throw new SyscallError(lastErrno(), "netlink socket receive timeout");
    // struct sockaddr_nl { sa_family_t nl_family; u16 pad; u32 nl_pid; u32 nl_groups; }
    mem.bytes.fill(0, 0, 12);
    v.setUint16(0, AF_NETLINK, true);
    if (bind(raw, mem.addr, 12) < 0) throw new SyscallError(lastErrno(), "netlink bind");
    return fd;
  } catch (e) {
    fd.close();
    throw e;
  }
}

/** Sends one request (whole netlink messages) on `fd`. */
export function netlinkSend(fd: Fd, message: Uint8Array): void {
  const mem = buffer(message.length);
  mem.bytes.set(message);
  for (;;) {
    const n = send(fd.value, mem.addr, message.length, 0);
    if (n >= 0) return;
    const errno = lastErrno();
    if (errno !== EINTR) throw new SyscallError(errno, "netlink send");
  }
}

/**
 * Receives what the kernel has queued on `fd`: waits for one datagram (up to the receive
 * timeout), then takes what else is already there, up to `max` datagrams in all (at
 * most 4), in one recvmmsg(2). A request's answer and acknowledgement are two
 * datagrams: asking for no more saves the kernel a third, empty receive. Each
 * datagram holds one or more netlink messages. The bytes are views of a shared buffer,
 * valid until the next receive on any netlink socket: copy what you keep.
 * @throws SyscallError EAGAIN when nothing came within the receive timeout; Error when a
 * datagram was larger than its buffer.
 */
export function netlinkReceive(fd: Fd, max = SLOTS): Uint8Array[] {
  const { mem, view, headers } = receiveBuffers();
  const vlen = Math.max(1, Math.min(max, SLOTS));
  for (;;) {
    const n = recvmmsg(fd.value, mem.addr + headers, vlen, MSG_WAITFORONE, 0);
    if (n < 0) {
      const errno = lastErrno();
      if (errno === EINTR) continue;
      throw new SyscallError(
        errno,
        "netlink receive",
        errno === EAGAIN ? `no answer within ${RECEIVE_TIMEOUT_S} s` : undefined,
      );
    }
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const h = headers + i * MMSGHDR;
      if ((view.getInt32(h + MSGHDR_FLAGS, true) & MSG_TRUNC) !== 0)
        throw new Error(`netlink receive: a message did not fit in ${SLOT_SIZE} bytes`);
      out.push(
        mem.bytes.subarray(i * SLOT_SIZE, i * SLOT_SIZE + view.getUint32(h + MMSGHDR_LEN, true)),
      );
    }
    return out;
  }
}
