// tsbpf trace open: open(2)/openat(2) calls with their result, as BCC's opensnoop
// shows them. The entry tracepoints remember each thread's file name pointer (and
// flags); the exit tracepoints read the name from user memory and emit one event with
// the returned fd or -errno.
#include "trace.bpf.h"

#define PATH_LEN 256

/* Filters set before the load (0 = off). */
const volatile __u32 targ_tgid = 0;
const volatile __u8 targ_failed = 0;

struct open_args {
  const char *fname;
  __s64 flags;
};

struct open_event {
  __u64 ts;
  __u32 pid;
  __u32 tid;
  __u32 uid;
  __s32 ret;
  __s32 flags;
  char comm[TASK_COMM_LEN];
  char path[PATH_LEN];
};

/* The offsets src/cli/trace-events.ts reads. */
_Static_assert(__builtin_offsetof(struct open_event, ret) == 20, "ret");
_Static_assert(__builtin_offsetof(struct open_event, comm) == 28, "comm");
_Static_assert(__builtin_offsetof(struct open_event, path) == 44, "path");
_Static_assert(sizeof(struct open_event) == 304, "size");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct open_args);
} start SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct open_event);
} scratch SEC(".maps");

static __always_inline int on_enter(const char *fname, __s64 flags) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  if (targ_tgid && targ_tgid != tgid)
    return 0;
  struct open_args a = {.fname = fname, .flags = flags};
  bpf_map_update_elem(&start, &tid, &a, BPF_ANY);
  return 0;
}

static __always_inline int on_exit(void *ctx, __s64 ret) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id, zero = 0;
  struct open_args *a = bpf_map_lookup_elem(&start, &tid);
  if (!a)
    return 0;
  if (targ_failed && ret >= 0)
    goto cleanup;
  struct open_event *e = bpf_map_lookup_elem(&scratch, &zero);
  if (!e)
    goto cleanup;
  e->ts = bpf_ktime_get_ns();
  e->pid = id >> 32;
  e->tid = tid;
  e->uid = (__u32)bpf_get_current_uid_gid();
  e->ret = (__s32)ret;
  e->flags = (__s32)a->flags;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  if (bpf_probe_read_user_str(e->path, sizeof(e->path), a->fname) < 0)
    e->path[0] = '\0';
  emit(ctx, e, sizeof(*e));
cleanup:
  bpf_map_delete_elem(&start, &tid);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct syscall_enter_ctx *ctx) {
  return on_enter((const char *)ctx->args[1], (__s64)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct syscall_exit_ctx *ctx) { return on_exit(ctx, ctx->ret); }

/* Only on architectures that still have open(2) (x86-64 does, arm64 does not). */
SEC("tracepoint/syscalls/sys_enter_open")
int enter_open(struct syscall_enter_ctx *ctx) {
  return on_enter((const char *)ctx->args[0], (__s64)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_open")
int exit_open(struct syscall_exit_ctx *ctx) { return on_exit(ctx, ctx->ret); }
