// tsbpf trace tcpconnect: active TCP connects, as BCC's tcpconnect shows them, from
// sock:inet_sock_set_state's move to SYN_SENT (made by connect(2), so the current
// task is the caller).
#include "sock.bpf.h"

/* Set before the load; 0 means "any". */
const volatile __u32 targ_tgid = 0;
const volatile __u32 targ_uid = 0xffffffff;

struct connect_event {
  __u64 ts;
  __u32 pid;
  __u32 uid;
  __u16 family;
  __u16 dport;
  __u8 saddr[16];
  __u8 daddr[16];
  char comm[TASK_COMM_LEN];
};

/* The offsets src/cli/trace/tcpconnect.ts reads. */
_Static_assert(__builtin_offsetof(struct connect_event, saddr) == 20, "saddr");
_Static_assert(__builtin_offsetof(struct connect_event, comm) == 52, "comm");
_Static_assert(sizeof(struct connect_event) == 72, "size");

SEC("tracepoint/sock/inet_sock_set_state")
int set_state_connect(struct inet_sock_set_state_args *ctx) {
  if (ctx->protocol != IPPROTO_TCP || ctx->newstate != TCP_SYN_SENT)
    return 0;
  if (targ_family && ctx->family != targ_family)
    return 0;
  __u64 id = bpf_get_current_pid_tgid();
  __u32 uid = (__u32)bpf_get_current_uid_gid();
  if (targ_tgid && targ_tgid != id >> 32)
    return 0;
  if (targ_uid != 0xffffffff && targ_uid != uid)
    return 0;
  struct connect_event e = {};
  e.ts = bpf_ktime_get_ns();
  e.pid = id >> 32;
  e.uid = uid;
  e.family = ctx->family;
  e.dport = ctx->dport;
  copy_addrs(ctx->saddr, ctx->daddr, ctx->saddr_v6, ctx->daddr_v6, ctx->family, e.saddr,
             e.daddr);
  bpf_get_current_comm(e.comm, sizeof(e.comm));
  emit(ctx, &e, sizeof(e));
  return 0;
}
