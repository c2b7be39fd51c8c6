// tsbpf trace tcpretrans: TCP retransmissions, as BCC's tcpretrans shows them, from
// the tcp:tcp_retransmit_skb tracepoint (Linux >= 4.15; no kprobe on
// tcp_retransmit_skb needed). Most fire in softirq or timer context, where the
// current pid is 0, as BCC's output shows too.
#include "sock.bpf.h"

struct tcp_retransmit_skb_ctx {
  __u64 common;
  const void *skbaddr;
  const void *skaddr;
  int state;
  __u16 sport;
  __u16 dport;
  __u16 family;
  __u8 saddr[4];
  __u8 daddr[4];
  __u8 saddr_v6[16];
  __u8 daddr_v6[16];
};

_Static_assert(__builtin_offsetof(struct tcp_retransmit_skb_ctx, saddr_v6) == 42, "saddr_v6");

struct retrans_event {
  __u64 ts;
  __u32 pid;
  __u32 state;
  __u16 family;
  __u16 lport;
  __u16 rport;
  __u16 type;
  __u8 saddr[16];
  __u8 daddr[16];
};

/* The offsets src/cli/trace/tcpretrans.ts reads. */
_Static_assert(__builtin_offsetof(struct retrans_event, saddr) == 24, "saddr");
_Static_assert(sizeof(struct retrans_event) == 56, "size");

SEC("tracepoint/tcp/tcp_retransmit_skb")
int retransmit_skb(struct tcp_retransmit_skb_ctx *ctx) {
  __u16 family = ctx->family;
  if (targ_family && family != targ_family)
    return 0;
  struct retrans_event e = {};
  e.ts = bpf_ktime_get_ns();
  e.pid = bpf_get_current_pid_tgid() >> 32;
  e.state = ctx->state;
  e.family = family;
  e.lport = ctx->sport;
  e.rport = ctx->dport;
  e.type = 1; /* a retransmission ("R>"); 2 would be a tail loss probe ("L>") */
  copy_addrs(ctx->saddr, ctx->daddr, ctx->saddr_v6, ctx->daddr_v6, family, e.saddr, e.daddr);
  emit(ctx, &e, sizeof(e));
  return 0;
}
