// tsbpf trace statsnoop: stat-family calls (statx, newfstatat, stat, lstat, statfs),
// as BCC's statsnoop shows them. Two entry programs remember each thread's path
// pointer (its position differs: after a directory fd or first); one exit program,
// attached to every sys_exit_* of the family, reads the path and emits the record with
// the syscall number, which user space turns into a name (-s).
#include "trace.bpf.h"

#define NAME_LEN 256

/* Set before the load. */
const volatile __u32 targ_tgid = 0;
const volatile __u8 targ_failed = 0;

struct stat_event {
  __u64 ts;
  __u32 pid;
  __s32 ret;
  __s32 syscall_nr;
  char comm[TASK_COMM_LEN];
  char path[NAME_LEN];
};

/* The offsets src/cli/trace/statsnoop.ts reads. */
_Static_assert(__builtin_offsetof(struct stat_event, comm) == 20, "comm");
_Static_assert(__builtin_offsetof(struct stat_event, path) == 36, "path");
_Static_assert(sizeof(struct stat_event) == 296, "size");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, __u64);
} paths SEC(".maps");

static __always_inline int remember(__u64 path) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id;
  if (targ_tgid && targ_tgid != id >> 32)
    return 0;
  bpf_map_update_elem(&paths, &tid, &path, BPF_ANY);
  return 0;
}

/* statx, newfstatat: (dirfd, path, ...). */
SEC("tracepoint/syscalls/sys_enter_statx")
int enter_at(struct syscall_enter_ctx *ctx) {
  return remember(ctx->args[1]);
}

/* stat, lstat, statfs: (path, ...). */
SEC("tracepoint/syscalls/sys_enter_newstat")
int enter_path(struct syscall_enter_ctx *ctx) {
  return remember(ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_statx")
int exit_stat(struct syscall_exit_ctx *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id;
  __u64 *path = bpf_map_lookup_elem(&paths, &tid);
  if (!path)
    return 0;
  struct stat_event e = {};
  e.ret = (__s32)ctx->ret;
  if (targ_failed && e.ret >= 0)
    goto cleanup;
  e.ts = bpf_ktime_get_ns();
  e.pid = id >> 32;
  e.syscall_nr = (__s32)ctx->syscall_nr;
  bpf_get_current_comm(e.comm, sizeof(e.comm));
  if (bpf_probe_read_user_str(e.path, sizeof(e.path), (const char *)*path) < 0)
    e.path[0] = '\0';
  emit(ctx, &e, sizeof(e));
cleanup:
  bpf_map_delete_elem(&paths, &tid);
  return 0;
}
