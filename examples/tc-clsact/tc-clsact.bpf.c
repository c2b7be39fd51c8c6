// tc-clsact: two direct-action tc programs for the clsact hooks of a device. On
// ingress, UDP datagrams to drop_port are dropped (TC_ACT_SHOT) and counted; every other
// IPv4 packet is counted and passes. On egress, IPv4 packets are counted. Attach them
// with tsbpf's attachTc (clsact or tcx), `tsbpf net attach tc_ingress ...`, or
// `tc filter add dev DEV ingress bpf da obj tc-clsact.bpf.o sec tc`: see tc-clsact.ts.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 drop_port = 53; /* .rodata: set with the `constants` load option */
__u64 ingress_packets;               /* .bss */
__u64 egress_packets;
__u64 dropped;

/* The UDP destination port of an IPv4 packet, or 0. */
static __always_inline int udp_dport(struct __sk_buff *skb, int *ipv4) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = (void *)(eth + 1);
  *ipv4 = 0;
  if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
    return 0;
  *ipv4 = 1;
  if (ip->protocol != IPPROTO_UDP)
    return 0;
  __u16 *ports = (void *)ip + ip->ihl * 4;
  if ((void *)(ports + 2) > end)
    return 0;
  return bpf_ntohs(ports[1]);
}

SEC("tc")
int tc_ingress(struct __sk_buff *skb) {
  int ipv4;
  int port = udp_dport(skb, &ipv4);
  if (port && port == drop_port) {
    __sync_fetch_and_add(&dropped, 1);
    return TC_ACT_SHOT;
  }
  if (ipv4)
    __sync_fetch_and_add(&ingress_packets, 1);
  return TC_ACT_OK;
}

SEC("tc")
int tc_egress(struct __sk_buff *skb) {
  int ipv4;
  udp_dport(skb, &ipv4);
  if (ipv4)
    __sync_fetch_and_add(&egress_packets, 1);
  return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
