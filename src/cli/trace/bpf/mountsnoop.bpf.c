// tsbpf trace mountsnoop: mount(2) and umount2(2) calls, as BCC's mountsnoop shows
// them. The entry tracepoints remember each thread's arguments; the exit tracepoints
// copy the strings (still in the caller's memory), add the result and the caller's
// mount namespace (a CO-RE read of task->nsproxy->mnt_ns->ns.inum), and emit.
#include "trace.bpf.h"
#include <bpf/bpf_core_read.h>

#define STR_LEN 256
#define FSTYPE_LEN 32

/* Set before the load. */
const volatile __u32 targ_tgid = 0;

enum mount_op { OP_MOUNT = 0, OP_UMOUNT = 1 };

struct ns_common {
  unsigned int inum;
} __attribute__((preserve_access_index));

struct mnt_namespace {
  struct ns_common ns;
} __attribute__((preserve_access_index));

struct nsproxy {
  struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));

struct task_struct {
  struct nsproxy *nsproxy;
} __attribute__((preserve_access_index));

/* Arguments as the entry saw them: pointers into the caller's memory. */
struct mount_args {
  __u64 source;
  __u64 target;
  __u64 fstype;
  __u64 flags;
  __u64 data;
  __u32 op;
};

struct mount_event {
  __u64 ts;
  __u64 flags;
  __u32 pid;
  __u32 tid;
  __u32 mnt_ns;
  __s32 ret;
  __u32 op;
  char comm[TASK_COMM_LEN];
  char fstype[FSTYPE_LEN];
  char source[STR_LEN];
  char target[STR_LEN];
  char data[STR_LEN];
};

/* The offsets src/cli/trace/mountsnoop.ts reads. */
_Static_assert(__builtin_offsetof(struct mount_event, comm) == 36, "comm");
_Static_assert(__builtin_offsetof(struct mount_event, fstype) == 52, "fstype");
_Static_assert(__builtin_offsetof(struct mount_event, source) == 84, "source");
_Static_assert(sizeof(struct mount_event) == 856, "size");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct mount_args);
} calls SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct mount_event);
} scratch SEC(".maps");

static __always_inline int remember(struct mount_args *a) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id;
  if (targ_tgid && targ_tgid != id >> 32)
    return 0;
  bpf_map_update_elem(&calls, &tid, a, BPF_ANY);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_mount")
int enter_mount(struct syscall_enter_ctx *ctx) {
  struct mount_args a = {
      .source = ctx->args[0],
      .target = ctx->args[1],
      .fstype = ctx->args[2],
      .flags = ctx->args[3],
      .data = ctx->args[4],
      .op = OP_MOUNT,
  };
  return remember(&a);
}

SEC("tracepoint/syscalls/sys_enter_umount")
int enter_umount(struct syscall_enter_ctx *ctx) {
  struct mount_args a = {.target = ctx->args[0], .flags = ctx->args[1], .op = OP_UMOUNT};
  return remember(&a);
}

static __always_inline void read_str(char *dst, __u32 size, __u64 src) {
  dst[0] = '\0';
  if (src && bpf_probe_read_user_str(dst, size, (const char *)src) < 0)
    dst[0] = '\0';
}

SEC("tracepoint/syscalls/sys_exit_mount")
int exit_mount(struct syscall_exit_ctx *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id, zero = 0;
  struct mount_args *a = bpf_map_lookup_elem(&calls, &tid);
  if (!a)
    return 0;
  struct mount_event *e = bpf_map_lookup_elem(&scratch, &zero);
  if (!e)
    goto cleanup;
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  e->ts = bpf_ktime_get_ns();
  e->flags = a->flags;
  e->pid = id >> 32;
  e->tid = tid;
  e->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
  e->ret = (__s32)ctx->ret;
  e->op = a->op;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  read_str(e->fstype, sizeof(e->fstype), a->fstype);
  read_str(e->source, sizeof(e->source), a->source);
  read_str(e->target, sizeof(e->target), a->target);
  read_str(e->data, sizeof(e->data), a->data);
  emit(ctx, e, sizeof(*e));
cleanup:
  bpf_map_delete_elem(&calls, &tid);
  return 0;
}
