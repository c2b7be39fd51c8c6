// tsbpf trace tcplife: TCP sessions when they close, with their lifespan and bytes,
// as BCC's tcplife shows them, from sock:inet_sock_set_state alone. A socket's birth
// is its last move to a state before FIN_WAIT1; the process is the one that moved it
// to SYN_SENT (connect) or LAST_ACK (close after the peer's), else whoever closes it.
// The bytes are struct tcp_sock's bytes_acked and bytes_received, read with CO-RE
// from the tracepoint's socket pointer.
#include "sock.bpf.h"
#include <bpf/bpf_core_read.h>

/* Set before the load; 0 means "any". */
const volatile __u32 targ_tgid = 0;
const volatile __u16 targ_lport = 0;
const volatile __u16 targ_rport = 0;

struct tcp_sock {
  __u64 bytes_received;
  __u64 bytes_acked;
} __attribute__((preserve_access_index));

struct ident {
  __u32 pid;
  char comm[TASK_COMM_LEN];
};

struct life_event {
  __u64 ts;
  __u64 span_us;
  __u64 rx_b;
  __u64 tx_b;
  __u32 pid;
  __u16 family;
  __u16 lport;
  __u16 rport;
  __u16 pad;
  __u8 saddr[16];
  __u8 daddr[16];
  char comm[TASK_COMM_LEN];
};

/* The offsets src/cli/trace/tcplife.ts reads. */
_Static_assert(__builtin_offsetof(struct life_event, saddr) == 44, "saddr");
_Static_assert(__builtin_offsetof(struct life_event, comm) == 76, "comm");
_Static_assert(sizeof(struct life_event) == 96, "size");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u64);
  __type(value, __u64);
} birth SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u64);
  __type(value, struct ident);
} whoami SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int set_state_life(struct inet_sock_set_state_args *ctx) {
  if (ctx->protocol != IPPROTO_TCP)
    return 0;
  if (targ_family && ctx->family != targ_family)
    return 0;
  __u64 sk = (__u64)ctx->skaddr;
  __u16 lport = ctx->sport, rport = ctx->dport;
  if ((targ_lport && lport != targ_lport) || (targ_rport && rport != targ_rport)) {
    if (ctx->newstate == TCP_CLOSE)
      bpf_map_delete_elem(&birth, &sk);
    return 0;
  }
  __u64 id = bpf_get_current_pid_tgid();
  if (ctx->newstate < TCP_FIN_WAIT1) {
    __u64 ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&birth, &sk, &ts, BPF_ANY);
  }
  if (ctx->newstate == TCP_SYN_SENT || ctx->newstate == TCP_LAST_ACK) {
    struct ident me = {.pid = id >> 32};
    bpf_get_current_comm(me.comm, sizeof(me.comm));
    bpf_map_update_elem(&whoami, &sk, &me, BPF_ANY);
  }
  if (ctx->newstate != TCP_CLOSE)
    return 0;

  __u64 *start = bpf_map_lookup_elem(&birth, &sk);
  if (!start) /* born before we started: its lifespan is unknown */
    goto cleanup;
  struct life_event e = {};
  e.ts = bpf_ktime_get_ns();
  e.span_us = (e.ts - *start) / 1000;
  struct ident *who = bpf_map_lookup_elem(&whoami, &sk);
  if (who) {
    e.pid = who->pid;
    __builtin_memcpy(e.comm, who->comm, sizeof(e.comm));
  } else {
    e.pid = id >> 32;
    bpf_get_current_comm(e.comm, sizeof(e.comm));
  }
  if (targ_tgid && targ_tgid != e.pid)
    goto cleanup;
  const struct tcp_sock *tp = (const struct tcp_sock *)ctx->skaddr;
  e.rx_b = BPF_CORE_READ(tp, bytes_received);
  e.tx_b = BPF_CORE_READ(tp, bytes_acked);
  e.family = ctx->family;
  e.lport = lport;
  e.rport = rport;
  copy_addrs(ctx->saddr, ctx->daddr, ctx->saddr_v6, ctx->daddr_v6, ctx->family, e.saddr,
             e.daddr);
  emit(ctx, &e, sizeof(e));
cleanup:
  bpf_map_delete_elem(&birth, &sk);
  bpf_map_delete_elem(&whoami, &sk);
  return 0;
}
