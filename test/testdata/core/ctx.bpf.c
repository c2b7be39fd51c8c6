// CO-RE on program contexts: local ___flavour views of struct xdp_md and
// struct __sk_buff with fields in another order (and one of another width), relocated
// to the kernel's layout; an enum whose values the kernel's enum replaces; a type size.
// Both programs run with BPF_PROG_TEST_RUN.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct xdp_md___local {
  __u32 data_end;
  __u64 ingress_ifindex; /* __u32 in the kernel: the load is narrowed */
  __u32 data;
  __u32 rx_queue_index;
} __attribute__((preserve_access_index));

struct __sk_buff___local {
  __u32 protocol;
  __u32 mark;
  __u32 len;
  __u32 no_such_field;
} __attribute__((preserve_access_index));

enum xdp_action___local { XDP_DROP___local = 100, XDP_PASS___local = 200 };

__u32 xdp_len, xdp_queue, skb_mark, skb_protocol;
__u64 xdp_ifindex, xdp_md_size, skb_has_nothing;

SEC("xdp")
int xdp_core(struct xdp_md *ctx) {
  struct xdp_md___local *c = (void *)ctx;
  xdp_len = c->data_end - c->data;
  xdp_queue = c->rx_queue_index;
  xdp_ifindex = c->ingress_ifindex;
  xdp_md_size = bpf_core_type_size(struct xdp_md___local);
  return bpf_core_enum_value(enum xdp_action___local, XDP_PASS___local);
}

SEC("socket")
int skb_core(struct __sk_buff *skb) {
  struct __sk_buff___local *s = (void *)skb;
  skb_mark = s->mark;
  skb_protocol = s->protocol;
  skb_has_nothing = bpf_core_field_exists(s->no_such_field);
  return s->len;
}

char LICENSE[] SEC("license") = "GPL";
