/**
 * Programs on sockets, attached with setsockopt(2): a socket filter (SO_ATTACH_BPF: the
 * program sees each packet the socket would receive and says how many bytes to keep,
 * 0 dropping it) and a reuseport selector (SO_ATTACH_REUSEPORT_EBPF: picks the socket of
 * a SO_REUSEPORT group that gets a packet or connection). The attachment belongs to the
 * socket: it ends with the socket, or when the returned link is closed.
 *
 * @module
 */
import { ProgType } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { Socket, setSocketOptionInt } from "../sys/index.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType } from "./link-create.ts";

// <asm-generic/socket.h>
const SO_DETACH_FILTER = 27;
const SO_ATTACH_BPF = 50;
const SO_ATTACH_REUSEPORT_EBPF = 52;
const SO_DETACH_REUSEPORT_BPF = 68;

/** A socket: its descriptor, or an object that has one (`{ fd }`). */
export type SocketRef = number | { readonly fd: number };

const fdOf = (s: SocketRef) => (typeof s === "number" ? s : s.fd);

function attachBySockopt(
  prog: Program,
  socket: SocketRef,
  what: string,
  attach: number,
  detach: number,
): Link {
  const fd = fdOf(socket);
  if (!Number.isInteger(fd) || fd < 0)
    throw new RangeError(`${what}: ${fd} is not a socket descriptor`);
  setSocketOptionInt(
    fd,
    Socket.SOL_SOCKET,
    attach,
    prog.fd,
    `attach ${prog} to ${what} (fd ${fd})`,
  );
  return newLink({
    description: `${what} (fd ${fd})`,
    noLinkReason: "it was attached with setsockopt(2), which makes no bpf_link",
    cleanup: () => {
      try {
        setSocketOptionInt(
          fd,
          Socket.SOL_SOCKET,
          detach,
          0,
          `detach ${prog} from ${what} (fd ${fd})`,
        );
      } catch (e) {
        // The socket is gone (EBADF), was never ours (ENOTSOCK), or lost its program (ENOENT).
        const code = (e as { code?: string }).code;
        if (code !== "EBADF" && code !== "ENOTSOCK" && code !== "ENOENT") throw e;
      }
    },
  });
}

/**
 * Attaches a socket_filter program to a socket (SO_ATTACH_BPF). The program's return
 * value is how many bytes of each packet the socket keeps (0: the socket never sees it).
 * Closing the link detaches it (SO_DETACH_BPF) while the socket stays open.
 *
 * @example
 * ```ts
 * using sock = openSocket(Socket.AF_PACKET, Socket.SOCK_RAW, Socket.ETH_P_ALL_BE, "packet socket");
 * using link = attachSocketFilter(prog, sock.value);
 * ```
 */
export function attachSocketFilter(prog: Program, socket: SocketRef): Link {
  const what = "socket filter";
  expectProgType(prog, [ProgType.SOCKET_FILTER], what);
  return attachBySockopt(prog, socket, what, SO_ATTACH_BPF, SO_DETACH_FILTER);
}

/**
 * Attaches a program that selects the socket of a SO_REUSEPORT group
 * (SO_ATTACH_REUSEPORT_EBPF on any socket of the group): an sk_reuseport program, or a
 * socket_filter program whose return value is the index of the socket in the group.
 */
export function attachReuseport(prog: Program, socket: SocketRef): Link {
  const what = "reuseport group";
  expectProgType(prog, [ProgType.SK_REUSEPORT, ProgType.SOCKET_FILTER], what);
  return attachBySockopt(prog, socket, what, SO_ATTACH_REUSEPORT_EBPF, SO_DETACH_REUSEPORT_BPF);
}
