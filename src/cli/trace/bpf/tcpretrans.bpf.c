// tsbpf trace tcpretrans: TCP retransmissions, as BCC's tcpretrans shows them, from
// the tcp:tcp_retransmit_skb tracepoint (Linux >= 4.15; no kprobe on
// tcp_retransmit_skb needed). Most fire in softirq or timer context, where the
// current pid is 0, as BCC's output shows too. Tail loss probes (-l) have no
// tracepoint: a kprobe on tcp_send_loss_probe reads the socket, its fields relocated
// by name against the kernel's BTF (CO-RE). With -c nothing is emitted: each address
// pair's count goes into the `counts` map.
#define __TARGET_ARCH_x86
#include "sock.bpf.h"
#include <asm/ptrace.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/* Set before the load: count per address pair instead of emitting (-c). */
const volatile __u8 targ_count = 0;

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

/* -c: a flow, as BCC's count mode keys it (addresses, ports, family). */
struct flow_key {
  __u8 saddr[16];
  __u8 daddr[16];
  __u16 family;
  __u16 lport;
  __u16 rport;
  __u16 pad;
};

_Static_assert(sizeof(struct flow_key) == 40, "flow_key");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, struct flow_key);
  __type(value, __u64);
} counts SEC(".maps");

/* Emits `e`, or with -c counts its flow. */
static __always_inline void report(void *ctx, struct retrans_event *e) {
  if (!targ_count) {
    emit(ctx, e, sizeof(*e));
    return;
  }
  struct flow_key key = {.family = e->family, .lport = e->lport, .rport = e->rport};
  __builtin_memcpy(key.saddr, e->saddr, 16);
  __builtin_memcpy(key.daddr, e->daddr, 16);
  __u64 one = 1, *n = bpf_map_lookup_elem(&counts, &key);
  if (n)
    __sync_fetch_and_add(n, 1);
  else
    bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
}

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
  e.type = 1; /* a retransmission ("R>") */
  copy_addrs(ctx->saddr, ctx->daddr, ctx->saddr_v6, ctx->daddr_v6, family, e.saddr, e.daddr);
  report(ctx, &e);
  return 0;
}

/* The socket fields -l reads, as the kernel names them (include/net/sock.h); CO-RE
 * finds them through struct sock_common's anonymous unions. */
struct in6_addr___tr {
  __u8 s6_addr[16];
} __attribute__((preserve_access_index));

struct sock_common___tr {
  __be32 skc_daddr;
  __be32 skc_rcv_saddr;
  __be16 skc_dport;
  __u16 skc_num;
  unsigned short skc_family;
  volatile unsigned char skc_state;
  struct in6_addr___tr skc_v6_daddr;
  struct in6_addr___tr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock___tr {
  struct sock_common___tr __sk_common;
} __attribute__((preserve_access_index));

SEC("kprobe/tcp_send_loss_probe")
int loss_probe(struct pt_regs *ctx) {
  struct sock___tr *sk = (struct sock___tr *)PT_REGS_PARM1(ctx);
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if ((family != AF_INET && family != AF_INET6) || (targ_family && family != targ_family))
    return 0;
  struct retrans_event e = {};
  e.ts = bpf_ktime_get_ns();
  e.pid = bpf_get_current_pid_tgid() >> 32;
  e.state = BPF_CORE_READ(sk, __sk_common.skc_state);
  e.family = family;
  e.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
  e.rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
  e.type = 2; /* a tail loss probe ("L>") */
  if (family == AF_INET) {
    BPF_CORE_READ_INTO(e.saddr, sk, __sk_common.skc_rcv_saddr);
    BPF_CORE_READ_INTO(e.daddr, sk, __sk_common.skc_daddr);
  } else {
    BPF_CORE_READ_INTO(e.saddr, sk, __sk_common.skc_v6_rcv_saddr);
    BPF_CORE_READ_INTO(e.daddr, sk, __sk_common.skc_v6_daddr);
  }
  report(ctx, &e);
  return 0;
}
