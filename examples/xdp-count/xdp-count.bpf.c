// xdp-count: counts packets and bytes per IP protocol (TCP, UDP, ICMP, other) and
// drops UDP to port 53 when drop_dns is set. The same object runs in the kernel
// (BPF_PROG_TEST_RUN) and in tsbpf's userspace VM: see xdp-count.ts.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct counter {
  __u64 packets;
  __u64 bytes;
};

/* Key: the IP protocol number (6 TCP, 17 UDP, 1 ICMP), 255 for anything else. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, struct counter);
} by_proto SEC(".maps");

const volatile __u8 drop_dns = 1; /* .rodata: set with the `constants` load option */
__u64 dropped;                    /* .bss */

SEC("xdp")
int xdp_count(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  __u32 key = 255;
  if ((void *)(eth + 1) > end)
    return XDP_ABORTED;
  struct iphdr *ip = (void *)(eth + 1);
  if (eth->h_proto == bpf_htons(ETH_P_IP) && (void *)(ip + 1) <= end) {
    key = ip->protocol;
    if (drop_dns && ip->protocol == IPPROTO_UDP) {
      __u16 *ports = (void *)ip + ip->ihl * 4;
      if ((void *)(ports + 2) <= end && ports[1] == bpf_htons(53)) {
        __sync_fetch_and_add(&dropped, 1);
        return XDP_DROP;
      }
    }
  }
  __u64 len = end - data;
  struct counter *c = bpf_map_lookup_elem(&by_proto, &key);
  if (c) {
    __sync_fetch_and_add(&c->packets, 1);
    __sync_fetch_and_add(&c->bytes, len);
  } else {
    struct counter fresh = { 1, len };
    bpf_map_update_elem(&by_proto, &key, &fresh, BPF_NOEXIST);
  }
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
