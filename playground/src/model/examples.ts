/**
 * The playground's examples, from the repository's seeds: the smallest program, an XDP
 * drop, a map counter, a packet parser (with its unchecked twin the verifier refuses),
 * and a program that writes to a ring buffer and trace_printk.
 *
 * Pure: no DOM, no `node:` imports.
 * @module
 */

/** One example: editor text and the program type it is for (bpftool's name). */
export interface Example {
  readonly id: string;
  readonly title: string;
  readonly type: string;
  readonly text: string;
}

/** The examples, first one loaded by default. */
export const EXAMPLES: readonly Example[] = [
  {
    id: "return",
    title: "r0 = 2; exit",
    type: "xdp",
    text: "; The smallest program: return XDP_PASS (2).\nr0 = 2\nexit\n",
  },
  {
    id: "xdp-drop",
    title: "XDP drop",
    type: "xdp",
    text: "; Drop every packet: XDP_DROP is 1.\nr0 = 1\nexit\n",
  },
  {
    id: "map-counter",
    title: "Map counter",
    type: "xdp",
    text: `; Count packets in an array map's slot 0, then pass them.
.map counts array key=4 value=8 entries=1
r1 = 0
*(u32 *)(r10 -4) = r1        ; the key, on the stack
r2 = r10
r2 += -4
r1 = map[id:0]               ; maps[0]: counts
call bpf_map_lookup_elem
if r0 == 0 goto out          ; the verifier insists on this check
r1 = 1
lock *(u64 *)(r0 +0) += r1
out:
r0 = 2
exit
`,
  },
  {
    id: "parser",
    title: "Packet parser",
    type: "xdp",
    text: `; Drop UDP to port 53, pass the rest: Ethernet, IPv4, UDP, each checked against data_end.
r2 = *(u32 *)(r1 +0)         ; xdp_md->data
r3 = *(u32 *)(r1 +4)         ; xdp_md->data_end
r0 = 2                       ; XDP_PASS
r4 = r2
r4 += 42                     ; Ethernet (14) + IPv4 (20) + UDP (8)
if r4 > r3 goto out
r5 = *(u16 *)(r2 +12)        ; h_proto
if r5 != 0x8 goto out        ; ETH_P_IP, big-endian
r5 = *(u8 *)(r2 +23)         ; iph->protocol
if r5 != 17 goto out         ; IPPROTO_UDP
r5 = *(u16 *)(r2 +36)        ; udph->dest
if r5 != 0x3500 goto out     ; htons(53)
r0 = 1                       ; XDP_DROP
out:
exit
`,
  },
  {
    id: "parser-unchecked",
    title: "Packet parser, no bounds check (rejected)",
    type: "xdp",
    text: `; The parser without its data_end check: the verifier refuses the first packet read.
r2 = *(u32 *)(r1 +0)         ; xdp_md->data
r0 = 2
r5 = *(u16 *)(r2 +12)        ; h_proto: not proven to be in the packet
if r5 != 0x8 goto out
r0 = 1
out:
exit
`,
  },
  {
    id: "ringbuf",
    title: "Ring buffer and trace_printk",
    type: "xdp",
    text: `; Send each packet's length to a ring buffer, and say so with trace_printk.
.map events ringbuf entries=4096
r6 = r1
r1 = map[id:0]               ; maps[0]: events
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r2 = *(u32 *)(r6 +4)         ; data_end
r3 = *(u32 *)(r6 +0)         ; data
r2 -= r3
*(u64 *)(r0 +0) = r2
r1 = r0
r2 = 0
call bpf_ringbuf_submit
r1 = 0x0a6425206e656c     ; "len %d\\n", little-endian
*(u64 *)(r10 -8) = r1
r1 = r10
r1 += -8
r2 = 8
r3 = *(u32 *)(r6 +4)
r4 = *(u32 *)(r6 +0)
r3 -= r4
call bpf_trace_printk
out:
r0 = 2
exit
`,
  },
];
