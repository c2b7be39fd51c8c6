// tsbpf trace killsnoop: kill(2) calls, as BCC's killsnoop shows them. The entry
// tracepoint remembers the target and signal per thread; the exit tracepoint adds the
// result and emits the record. Sender (-p), target (-T), signal (-s) and -x are
// `.rodata` filters, so unwanted calls cost one comparison.
#include "trace.bpf.h"

/* Set before the load; 0 means "any". */
const volatile __u32 targ_tgid = 0;
const volatile __s32 targ_tpid = 0;
const volatile __s32 targ_sig = 0;
const volatile __u8 targ_failed = 0;

struct kill_event {
  __u64 ts;
  __u32 pid;
  __s32 tpid;
  __s32 sig;
  __s32 ret;
  char comm[TASK_COMM_LEN];
};

/* The offsets src/cli/trace/killsnoop.ts reads. */
_Static_assert(__builtin_offsetof(struct kill_event, comm) == 24, "comm");
_Static_assert(sizeof(struct kill_event) == 40, "size");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct kill_event);
} kills SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_kill")
int enter_kill(struct syscall_enter_ctx *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  struct kill_event e = {};
  e.tpid = (__s32)ctx->args[0];
  e.sig = (__s32)ctx->args[1];
  if (targ_tgid && targ_tgid != tgid)
    return 0;
  if (targ_tpid && targ_tpid != e.tpid)
    return 0;
  if (targ_sig && targ_sig != e.sig)
    return 0;
  e.pid = tgid;
  bpf_map_update_elem(&kills, &tid, &e, BPF_ANY);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_kill")
int exit_kill(struct syscall_exit_ctx *ctx) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct kill_event *e = bpf_map_lookup_elem(&kills, &tid);
  if (!e)
    return 0;
  e->ret = (__s32)ctx->ret;
  if (targ_failed && e->ret >= 0)
    goto cleanup;
  e->ts = bpf_ktime_get_ns();
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  emit(ctx, e, sizeof(*e));
cleanup:
  bpf_map_delete_elem(&kills, &tid);
  return 0;
}
