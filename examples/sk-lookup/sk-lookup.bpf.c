// sk-lookup: steers new TCP connections to a range of ports (port_lo..port_hi) to one
// listening socket, whatever port it is bound to — the way a service answers on many
// ports with one socket. The socket is put in the `target` sockmap by user space; the
// program runs in the network namespace it is attached to, before the kernel looks
// for a listener. See sk-lookup.ts.
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_SOCKMAP);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} target SEC(".maps");

const volatile __u16 port_lo = 7000; /* .rodata: set with the `constants` load option */
const volatile __u16 port_hi = 7099;
__u64 steered;                       /* .bss: connections sent to the target socket */

SEC("sk_lookup")
int steer(struct bpf_sk_lookup *ctx) {
  __u32 key = 0;
  if (ctx->protocol != IPPROTO_TCP || ctx->local_port < port_lo || ctx->local_port > port_hi)
    return SK_PASS; /* not ours: the kernel's lookup decides */
  struct bpf_sock *sk = bpf_map_lookup_elem(&target, &key);
  if (!sk)
    return SK_DROP;
  long err = bpf_sk_assign(ctx, sk, 0);
  bpf_sk_release(sk);
  if (err)
    return SK_DROP;
  __sync_fetch_and_add(&steered, 1);
  return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
