// cgroup-firewall: a cgroup_skb egress program for the processes of one cgroup. IPv4
// UDP datagrams to blocked_port, and IPv4 packets to blocked_addr, are dropped (return
// 0: the sender's sendmsg fails with EPERM) and counted; everything else passes and
// is counted. Attach it with tsbpf's attachCgroup, `tsbpf cgroup attach CGROUP egress
// pinned PIN multi`, or bpftool the same way: see cgroup-firewall.ts.
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 blocked_port = 9; /* host order; .rodata: the `constants` load option */
const volatile __u32 blocked_addr = 0; /* network order, 0 for none */
__u64 dropped;                         /* .bss */
__u64 passed;

SEC("cgroup_skb/egress")
int firewall(struct __sk_buff *skb) {
  struct iphdr ip;
  __u16 ports[2];
  /* cgroup_skb sees the packet from its network header on */
  if (skb->protocol != bpf_htons(0x0800) || bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
    goto pass;
  if (blocked_addr && ip.daddr == blocked_addr)
    goto drop;
  if (ip.protocol == IPPROTO_UDP && !bpf_skb_load_bytes(skb, ip.ihl * 4, ports, sizeof(ports)) &&
      bpf_ntohs(ports[1]) == blocked_port)
    goto drop;
pass:
  __sync_fetch_and_add(&passed, 1);
  return 1;
drop:
  __sync_fetch_and_add(&dropped, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
