/**
 * Netlink messages, built and parsed in plain TypeScript (no socket, no root: tested
 * on bytes alone). The layouts are the kernel's <linux/netlink.h>: a 16-byte
 * `nlmsghdr` (length, type, flags, sequence number, port id), a family header
 * (`ifinfomsg`, `tcmsg`...), then attributes — `nlattr` (u16 length, u16 type) and a
 * payload, each padded to 4 bytes, nested attributes holding attributes.
 *
 * Every length read from the kernel is checked before it is used: a message or
 * attribute that claims more bytes than there are is a {@link NetlinkFormatError}
 * naming where it was.
 *
 * @module
 */

/** `nlmsghdr.nlmsg_flags`. Values for GET and NEW requests share bits. */
export const NlmFlags = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  // GET requests
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  // NEW requests
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  // acknowledgements
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

/** Message types every netlink family shares. */
export const NlmsgType = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

/** Attributes of an extended acknowledgement (`enum nlmsgerr_attrs`). */
const NLMSGERR_ATTR_MSG = 1;
const NLMSGERR_ATTR_OFFS = 2;

/** `nla_type` flag bits. */
export const NLA_F_NESTED = 0x8000;
const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** Size of `struct nlmsghdr`. */
export const NLMSG_HDRLEN = 16;
const NLA_HDRLEN = 4;

const align4 = (n: number) => (n + 3) & ~3;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A netlink message or attribute that does not fit in the bytes it came in. */
export class NetlinkFormatError extends Error {
  override readonly name = "NetlinkFormatError";
}

// ---------------------------------------------------------------- building

/**
 * Builds one netlink message: `new MessageWriter(type, flags)`, the family header
 * with the `u8`/`u16`/`u32`... writers, then attributes, then {@link finish}.
 */
export class MessageWriter {
  // Plain byte writes, no DataView: a DataView needs the array's ArrayBuffer, and
  // making one costs about a microsecond in V8 (as much as a netlink system call),
  // where a Uint8Array of up to 64 bytes lives on the JavaScript heap for ~20 ns.
  #buf = new Uint8Array(64);
  #len = NLMSG_HDRLEN;
  readonly #type: number;
  readonly #flags: number;

  constructor(type: number, flags: number) {
    this.#type = type;
    this.#flags = flags;
  }

  get type(): number {
    return this.#type;
  }
  get flags(): number {
    return this.#flags;
  }

  #reserve(n: number): number {
    const at = this.#len;
    const need = at + n;
    if (need > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(need, this.#buf.length * 2));
      bigger.set(this.#buf.subarray(0, this.#len));
      this.#buf = bigger;
    }
    this.#len = need;
    return at;
  }

  /** Little-endian (the host order on every architecture tsbpf runs on). */
  #put16(at: number, v: number): void {
    const b = this.#buf;
    b[at] = v;
    b[at + 1] = v >>> 8;
  }
  #put32(at: number, v: number): void {
    const b = this.#buf;
    b[at] = v;
    b[at + 1] = v >>> 8;
    b[at + 2] = v >>> 16;
    b[at + 3] = v >>> 24;
  }

  u8(v: number): this {
    this.#buf[this.#reserve(1)] = v;
    return this;
  }
  u16(v: number): this {
    this.#put16(this.#reserve(2), v);
    return this;
  }
  u32(v: number): this {
    this.#put32(this.#reserve(4), v);
    return this;
  }
  i32(v: number): this {
    this.#put32(this.#reserve(4), v);
    return this;
  }

  /** Reserves an attribute with `size` payload bytes, its padding zeroed; returns where the payload goes. */
  #attrHeader(type: number, size: number): number {
    const at = this.#reserve(align4(NLA_HDRLEN + size));
    this.#put16(at, NLA_HDRLEN + size);
    this.#put16(at + 2, type);
    this.#buf.fill(0, at + NLA_HDRLEN + size, this.#len);
    return at + NLA_HDRLEN;
  }

  /** An attribute with raw bytes as its payload. */
  attr(type: number, payload: Uint8Array): this {
    this.#buf.set(payload, this.#attrHeader(type, payload.length));
    return this;
  }
  attrU8(type: number, v: number): this {
    this.#buf[this.#attrHeader(type, 1)] = v;
    return this;
  }
  attrU16(type: number, v: number): this {
    this.#put16(this.#attrHeader(type, 2), v);
    return this;
  }
  attrU32(type: number, v: number): this {
    this.#put32(this.#attrHeader(type, 4), v);
    return this;
  }
  attrI32(type: number, v: number): this {
    this.#put32(this.#attrHeader(type, 4), v);
    return this;
  }
  /** A NUL-terminated string attribute. */
  attrString(type: number, s: string): this {
    const bytes = encoder.encode(s);
    const at = this.#attrHeader(type, bytes.length + 1);
    this.#buf.set(bytes, at);
    this.#buf[at + bytes.length] = 0;
    return this;
  }
  /** A nested attribute (NLA_F_NESTED set) holding what `body` writes. */
  nest(type: number, body: (w: this) => void): this {
    const at = this.#reserve(NLA_HDRLEN);
    body(this);
    this.#put16(at, this.#len - at);
    this.#put16(at + 2, type | NLA_F_NESTED);
    return this;
  }

  /** The finished message, with its length, `seq` and port id 0 (the kernel). */
  finish(seq: number): Uint8Array {
    const len = this.#len;
    this.#put32(0, len);
    this.#put16(4, this.#type);
    this.#put16(6, this.#flags);
    this.#put32(8, seq);
    this.#put32(12, 0);
    return this.#buf.slice(0, len);
  }
}

// ---------------------------------------------------------------- parsing

/** One message of a datagram. `payload` is what follows the 16-byte header. */
export interface NetlinkMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly payload: Uint8Array;
}

/** Little-endian reads from bytes (no DataView to make per datagram or attribute). */
const le16 = (b: Uint8Array, at: number) => (b[at] as number) | ((b[at + 1] as number) << 8);
const le32 = (b: Uint8Array, at: number) => (le16(b, at) | (le16(b, at + 2) << 16)) >>> 0;

/** Splits a received datagram into its messages. */
export function parseMessages(datagram: Uint8Array): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  const d = datagram;
  let at = 0;
  while (at + NLMSG_HDRLEN <= d.length) {
    const len = le32(d, at);
    if (len < NLMSG_HDRLEN || at + len > d.length)
      throw new NetlinkFormatError(
        `netlink message at byte ${at} claims ${len} bytes; ${d.length - at} remain`,
      );
    out.push({
      type: le16(d, at + 4),
      flags: le16(d, at + 6),
      seq: le32(d, at + 8),
      pid: le32(d, at + 12),
      payload: d.subarray(at + NLMSG_HDRLEN, at + len),
    });
    at += align4(len);
  }
  return out;
}

/** One attribute: its type (flag bits removed) and payload. */
export interface Attr {
  readonly type: number;
  readonly nested: boolean;
  readonly value: Uint8Array;
}

/**
 * Attributes read from a message, by type. A type seen twice keeps the last (list
 * attributes: {@link all}). Integer getters return undefined for a missing attribute
 * and throw {@link NetlinkFormatError} for one too short for its type.
 */
export class Attrs {
  readonly list: readonly Attr[];
  readonly #byType = new Map<number, Attr>();
  readonly #where: string;

  constructor(bytes: Uint8Array, where = "attributes") {
    this.#where = where;
    const list: Attr[] = [];
    let at = 0;
    while (at + NLA_HDRLEN <= bytes.length) {
      const len = le16(bytes, at);
      const rawType = le16(bytes, at + 2);
      if (len < NLA_HDRLEN || at + len > bytes.length)
        throw new NetlinkFormatError(
          `${where}: attribute ${rawType & NLA_TYPE_MASK} at byte ${at} claims ${len} bytes; ${bytes.length - at} remain`,
        );
      const attr: Attr = {
        type: rawType & NLA_TYPE_MASK,
        nested: (rawType & NLA_F_NESTED) !== 0,
        value: bytes.subarray(at + NLA_HDRLEN, at + len),
      };
      list.push(attr);
      this.#byType.set(attr.type, attr);
      at += align4(len);
    }
    this.list = list;
  }

  has(type: number): boolean {
    return this.#byType.has(type);
  }
  bytes(type: number): Uint8Array | undefined {
    return this.#byType.get(type)?.value;
  }
  /** Every attribute of `type`, in order. */
  all(type: number): Attr[] {
    return this.list.filter((a) => a.type === type);
  }
  #sized(type: number, size: number): Uint8Array | undefined {
    const b = this.bytes(type);
    if (b === undefined) return undefined;
    if (b.length < size)
      throw new NetlinkFormatError(
        `${this.#where}: attribute ${type} has ${b.length} bytes, needs ${size}`,
      );
    return b;
  }
  u8(type: number): number | undefined {
    return this.#sized(type, 1)?.[0];
  }
  u16(type: number): number | undefined {
    const b = this.#sized(type, 2);
    return b && le16(b, 0);
  }
  u32(type: number): number | undefined {
    const b = this.#sized(type, 4);
    return b && le32(b, 0);
  }
  i32(type: number): number | undefined {
    const b = this.#sized(type, 4);
    return b && le32(b, 0) | 0;
  }
  /** A string attribute, up to its first NUL. */
  string(type: number): string | undefined {
    const b = this.bytes(type);
    if (b === undefined) return undefined;
    const nul = b.indexOf(0);
    return decoder.decode(nul < 0 ? b : b.subarray(0, nul));
  }
  /** The attributes nested in attribute `type`. */
  nested(type: number, name = `attribute ${type}`): Attrs | undefined {
    const b = this.bytes(type);
    return b === undefined ? undefined : new Attrs(b, `${this.#where} > ${name}`);
  }
}

/** What an NLMSG_ERROR message says: errno 0 is an acknowledgement. */
export interface NetlinkAck {
  /** A positive errno, or 0 for success. */
  readonly errno: number;
  /** The kernel's extended ACK message (`NETLINK_EXT_ACK`), when it gave one. */
  readonly message?: string;
  /** The byte offset in the request of the attribute the kernel objected to. */
  readonly offset?: number;
  /** The sequence number of the request this answers. */
  readonly seq: number;
}

/**
 * Decodes an NLMSG_ERROR payload (`struct nlmsgerr`: an int, the request's header and
 * — unless the ack is capped — its payload, then extended ACK attributes).
 */
export function parseAck(msg: NetlinkMessage): NetlinkAck {
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN)
    throw new NetlinkFormatError(`netlink error message of ${p.length} bytes; needs 20`);
  const errno = 0 - (le32(p, 0) | 0) || 0; // not -0 for an acknowledgement
  const seq = le32(p, 4 + 8);
  if ((msg.flags & NlmFlags.ACK_TLVS) === 0) return { errno, seq };
  const requestLen = le32(p, 4);
  const tlvs = 4 + ((msg.flags & NlmFlags.CAPPED) !== 0 ? NLMSG_HDRLEN : align4(requestLen));
  if (tlvs > p.length) return { errno, seq };
  const a = new Attrs(p.subarray(tlvs), "extended ack");
  const message = a.string(NLMSGERR_ATTR_MSG);
  const offset = a.u32(NLMSGERR_ATTR_OFFS);
  return {
    errno,
    seq,
    ...(message !== undefined && message !== "" && { message }),
    ...(offset !== undefined && { offset }),
  };
}

/**
 * The error a dump's NLMSG_DONE carries (an int after the header; negative on failure),
 * with the extended ACK message when there is one. Undefined for a clean end.
 */
export function parseDone(msg: NetlinkMessage): NetlinkAck | undefined {
  const p = msg.payload;
  if (p.length < 4) return undefined;
  const err = le32(p, 0) | 0;
  if (err >= 0) return undefined;
  const message =
    (msg.flags & NlmFlags.ACK_TLVS) !== 0
      ? new Attrs(p.subarray(4), "extended ack").string(NLMSGERR_ATTR_MSG)
      : undefined;
  return { errno: -err, seq: msg.seq, ...(message && { message }) };
}
