/**
 * Sockets at the level BPF needs them: opening one of any family (a raw packet socket
 * for a socket filter, a netlink socket) and setting options that take a program fd.
 * Node's own sockets keep their descriptors to themselves; these are plain fds.
 */

import { SyscallError } from "./errors.ts";
import { Fd } from "./fd.ts";
import { koffi } from "./koffi.ts";
import { allocNative, freeNative, lastErrno } from "./native.ts";

const libc = koffi.load("libc.so.6");

/** socket(2), for this layer's modules. */
export const socket = libc.func("int socket(int domain, int type, int protocol)") as (
  domain: number,
  type: number,
  protocol: number,
) => number;

/** setsockopt(2) with the value's address as a number, for this layer's modules. */
export const setsockopt = libc.func(
  "int setsockopt(int fd, int level, int name, long val, int len)",
) as (fd: number, level: number, name: number, val: number, len: number) => number;

/** Address families, socket types and levels tsbpf uses (<sys/socket.h>, <linux/if_ether.h>). */
export const Socket = {
  AF_INET: 2,
  AF_INET6: 10,
  AF_NETLINK: 16,
  AF_PACKET: 17,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  /** Sockets that set it before bind(2) may share an address: a reuseport group. */
  SO_REUSEPORT: 15,
  /** ETH_P_ALL in network byte order: every protocol, for AF_PACKET sockets. */
  ETH_P_ALL_BE: 0x0300,
} as const;

/**
 * Opens a socket (close-on-exec). `what` names it in errors.
 * @throws SyscallError (EPERM/EACCES for a raw socket without CAP_NET_RAW).
 */
export function openSocket(domain: number, type: number, protocol: number, what: string): Fd {
  const fd = socket(domain, type | Socket.SOCK_CLOEXEC, protocol);
  if (fd < 0) throw new SyscallError(lastErrno(), `open ${what}`);
  return new Fd(fd);
}

/**
 * setsockopt(2) with a 32-bit integer value (SO_ATTACH_BPF takes the program's fd).
 * @throws SyscallError naming `what`.
 */
export function setSocketOptionInt(
  fd: number,
  level: number,
  name: number,
  value: number,
  what: string,
): void {
  const mem = allocNative(4);
  try {
    new DataView(mem.bytes.buffer, mem.bytes.byteOffset, 4).setInt32(0, value, true);
    if (setsockopt(fd, level, name, mem.addr, 4) < 0) throw new SyscallError(lastErrno(), what);
  } finally {
    freeNative(mem);
  }
}

const bind = libc.func("int bind(int fd, long addr, int len)") as (
  fd: number,
  addr: number,
  len: number,
) => number;
const listen = libc.func("int listen(int fd, int backlog)") as (
  fd: number,
  backlog: number,
) => number;

/**
 * Binds an AF_INET socket to `address` (dotted quad) and `port`.
 * @throws SyscallError (EADDRINUSE...); RangeError for an address that is not IPv4.
 */
export function bindInet(fd: number, address: string, port: number): void {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new RangeError(`${address} is not an IPv4 address`);
  if (!Number.isInteger(port) || port < 0 || port > 0xffff)
    throw new RangeError(`${port} is not a port number`);
  // struct sockaddr_in { sa_family_t family; in_port_t port (big-endian); struct in_addr addr; zero[8]; }
  const mem = allocNative(16);
  try {
    const v = new DataView(mem.bytes.buffer, mem.bytes.byteOffset, 16);
    v.setUint16(0, Socket.AF_INET, true);
    v.setUint16(2, port, false);
    mem.bytes.set(parts, 4);
    if (bind(fd, mem.addr, 16) < 0)
      throw new SyscallError(lastErrno(), `bind to ${address}:${port}`);
  } finally {
    freeNative(mem);
  }
}

/** listen(2). */
export function listenSocket(fd: number, backlog = 16): void {
  if (listen(fd, backlog) < 0) throw new SyscallError(lastErrno(), "listen");
}
