/**
 * Packets for "Run": hex text to bytes and back, and a builder of Ethernet + IPv4 +
 * UDP/TCP frames with correct checksums (RFC 791 header checksum, RFC 768/793
 * pseudo-header checksums), so a learner need not type 54 bytes of hex.
 *
 * Pure: no DOM, no `node:` imports.
 * @module
 */

/** The most packet bytes the page takes (an Ethernet jumbo frame; the kernel's test run allows a page less headroom). */
export const MAX_PACKET_BYTES = 9216;

/**
 * Bytes from hex text; whitespace, `:` and `0x` prefixes are ignored.
 * @throws Error naming `what`, the offending character and its position.
 */
export function parseHex(text: string, what: string): Uint8Array {
  const digits = text.replace(/0x/gi, "").replace(/[\s:]+/g, "");
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad) throw new Error(`${what}: '${bad[0]}' is not a hex digit (digit ${bad.index + 1})`);
  if (digits.length % 2) throw new Error(`${what}: odd number of hex digits (${digits.length})`);
  if (digits.length / 2 > MAX_PACKET_BYTES)
    throw new Error(`${what}: ${digits.length / 2} bytes, more than ${MAX_PACKET_BYTES}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes as hex, `perLine` bytes a line, space-separated. */
export function toHex(bytes: Uint8Array, perLine = 16): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += perLine)
    lines.push(
      Array.from(bytes.subarray(i, i + perLine), (b) => b.toString(16).padStart(2, "0")).join(" "),
    );
  return lines.join("\n");
}

/** What the builder makes. */
export interface PacketFields {
  readonly srcMac: string;
  readonly dstMac: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly ttl: number;
  readonly proto: "udp" | "tcp";
  readonly srcPort: number;
  readonly dstPort: number;
  /** TCP flags by name (`SYN`, `ACK`, ...), ignored for UDP. */
  readonly tcpFlags: readonly string[];
  /** The payload as text (UTF-8). */
  readonly payload: string;
}

/** A default frame: UDP from 10.0.0.1:12345 to 10.0.0.2:53. */
export const DEFAULT_PACKET: PacketFields = {
  srcMac: "02:00:00:00:00:01",
  dstMac: "02:00:00:00:00:02",
  srcIp: "10.0.0.1",
  dstIp: "10.0.0.2",
  ttl: 64,
  proto: "udp",
  srcPort: 12345,
  dstPort: 53,
  tcpFlags: ["SYN"],
  payload: "hello",
};

const TCP_FLAGS = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
const ETH_HLEN = 14;
const IP_HLEN = 20;

function mac(text: string, field: string): number[] {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p)))
    throw new Error(`${field}: "${text}" is not a MAC address (six hex bytes, 02:00:00:00:00:01)`);
  return parts.map((p) => Number.parseInt(p, 16));
}

function ipv4(text: string, field: string): number[] {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255))
    throw new Error(`${field}: "${text}" is not an IPv4 address (four numbers 0..255)`);
  return parts.map(Number);
}

function u16(n: number, field: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff)
    throw new Error(`${field}: ${n} is not 0..65535`);
  return n;
}

/** The Internet checksum (RFC 1071) of `bytes`, added to `start`. */
function checksum(bytes: Uint8Array, start = 0): number {
  let sum = start;
  for (let i = 0; i < bytes.length; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * An Ethernet + IPv4 + UDP/TCP frame.
 * @throws Error naming the field that is wrong.
 */
export function buildPacket(f: PacketFields): Uint8Array {
  const payload = new TextEncoder().encode(f.payload);
  const l4len = (f.proto === "udp" ? 8 : 20) + payload.length;
  const total = ETH_HLEN + IP_HLEN + l4len;
  if (total > MAX_PACKET_BYTES) throw new Error(`payload: the frame would be ${total} bytes`);
  const p = new Uint8Array(total);
  const v = new DataView(p.buffer);
  p.set(mac(f.dstMac, "destination MAC"), 0);
  p.set(mac(f.srcMac, "source MAC"), 6);
  v.setUint16(12, 0x0800); // ETH_P_IP
  const ip = ETH_HLEN;
  p[ip] = 0x45; // version 4, 5 words
  v.setUint16(ip + 2, IP_HLEN + l4len);
  v.setUint16(ip + 6, 0x4000); // don't fragment
  if (!Number.isInteger(f.ttl) || f.ttl < 0 || f.ttl > 255)
    throw new Error(`TTL: ${f.ttl} is not 0..255`);
  p[ip + 8] = f.ttl;
  p[ip + 9] = f.proto === "udp" ? 17 : 6;
  const src = ipv4(f.srcIp, "source IP");
  const dst = ipv4(f.dstIp, "destination IP");
  p.set(src, ip + 12);
  p.set(dst, ip + 16);
  v.setUint16(ip + 10, checksum(p.subarray(ip, ip + IP_HLEN)));
  const l4 = ip + IP_HLEN;
  v.setUint16(l4, u16(f.srcPort, "source port"));
  v.setUint16(l4 + 2, u16(f.dstPort, "destination port"));
  if (f.proto === "udp") {
    v.setUint16(l4 + 4, l4len);
    p.set(payload, l4 + 8);
  } else {
    v.setUint32(l4 + 4, 1); // sequence number
    p[l4 + 12] = 5 << 4; // data offset: 5 words
    let flags = 0;
    for (const name of f.tcpFlags) {
      const bit = TCP_FLAGS.indexOf(name.toUpperCase());
      if (bit < 0) throw new Error(`TCP flags: "${name}" is not one of ${TCP_FLAGS.join(", ")}`);
      flags |= 1 << bit;
    }
    p[l4 + 13] = flags;
    v.setUint16(l4 + 14, 65535); // window
    p.set(payload, l4 + 20);
  }
  // The pseudo-header: addresses, protocol, L4 length.
  const pseudo = new Uint8Array(12);
  pseudo.set(src, 0);
  pseudo.set(dst, 4);
  pseudo[9] = p[ip + 9] as number;
  new DataView(pseudo.buffer).setUint16(10, l4len);
  const partial = 0xffff & ~checksum(pseudo);
  let sum = checksum(p.subarray(l4, l4 + l4len), partial);
  if (f.proto === "udp" && sum === 0) sum = 0xffff; // RFC 768: 0 means "no checksum"
  v.setUint16(l4 + (f.proto === "udp" ? 6 : 16), sum);
  return p;
}
