// tsbpf trace syscount: system calls counted by syscall (or by process with -P), with
// their total time with -L, as BCC's syscount counts them. raw_syscalls:sys_exit counts
// each call as it returns; with -L raw_syscalls:sys_enter stamps the thread first.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16

/* raw_syscalls:sys_enter and sys_exit records (events/raw_syscalls/sys_*\/format). */
struct raw_enter_ctx {
  __u64 common;
  __s64 id;
  __u64 args[6];
};

struct raw_exit_ctx {
  __u64 common;
  __s64 id;
  __s64 ret;
};

/* Set before the load. */
const volatile __u32 targ_tgid = 0;
const volatile __u8 targ_latency = 0;
const volatile __u8 targ_per_process = 0;
const volatile __u8 targ_failures = 0;
/* -e: only calls that fail with this errno (positive); 0 for any result. */
const volatile __s32 targ_errno = 0;

struct syscall_count {
  __u64 count;
  __u64 total_ns;
  char comm[TASK_COMM_LEN];
};

/* The offsets src/cli/trace/trace-syscount.ts reads. */
_Static_assert(__builtin_offsetof(struct syscall_count, comm) == 16, "comm");
_Static_assert(sizeof(struct syscall_count) == 32, "size");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, __u64);
} start SEC(".maps");

/* Keyed by syscall number, or by process id with -P. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct syscall_count);
} counts SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(struct raw_enter_ctx *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  if (targ_tgid && (__u32)(id >> 32) != targ_tgid)
    return 0;
  __u32 tid = (__u32)id;
  __u64 ts = bpf_ktime_get_ns();
  bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
  return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct raw_exit_ctx *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  if (targ_tgid && tgid != targ_tgid)
    return 0;
  __u64 delta = 0;
  if (targ_latency) {
    __u64 *ts = bpf_map_lookup_elem(&start, &tid);
    if (!ts)
      return 0;
    delta = bpf_ktime_get_ns() - *ts;
    bpf_map_delete_elem(&start, &tid);
  }
  /* id is -1 when the call was not a real syscall (a restarted one, ptrace games). */
  if (ctx->id < 0 || (targ_failures && ctx->ret >= 0) || (targ_errno && ctx->ret != -targ_errno))
    return 0;
  __u32 key = targ_per_process ? tgid : (__u32)ctx->id;
  struct syscall_count *c = bpf_map_lookup_elem(&counts, &key);
  if (!c) {
    struct syscall_count fresh = {};
    if (targ_per_process)
      bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
    bpf_map_update_elem(&counts, &key, &fresh, BPF_NOEXIST);
    c = bpf_map_lookup_elem(&counts, &key);
    if (!c)
      return 0;
  }
  __sync_fetch_and_add(&c->count, 1);
  if (targ_latency)
    __sync_fetch_and_add(&c->total_ns, delta);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
