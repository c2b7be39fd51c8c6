// socket-filter: a socket filter for a raw packet socket (AF_PACKET). It counts the
// packets the socket sees by IP protocol (TCP, UDP, ICMP, other) and direction, and
// keeps none of them (returns 0): the socket is a counter, not a capture. Attach it
// with tsbpf's attachSocketFilter (SO_ATTACH_BPF): see test/kernel-net-socket.test.ts.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct counts {
  __u64 tcp;
  __u64 udp;
  __u64 icmp;
  __u64 other;
};

/* Index 0: packets that came in; 1: packets that went out. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, struct counts);
} by_direction SEC(".maps");

SEC("socket")
int count_packets(struct __sk_buff *skb) {
  __u32 key = skb->pkt_type == PACKET_OUTGOING;
  struct counts *c = bpf_map_lookup_elem(&by_direction, &key);
  __u8 proto = 0;
  if (!c)
    return 0;
  if (skb->protocol == bpf_htons(ETH_P_IP))
    bpf_skb_load_bytes(skb, ETH_HLEN + 9, &proto, 1);
  if (proto == IPPROTO_TCP)
    __sync_fetch_and_add(&c->tcp, 1);
  else if (proto == IPPROTO_UDP)
    __sync_fetch_and_add(&c->udp, 1);
  else if (proto == IPPROTO_ICMP)
    __sync_fetch_and_add(&c->icmp, 1);
  else
    __sync_fetch_and_add(&c->other, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
