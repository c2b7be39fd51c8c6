// tsbpf trace exec: execve(2) calls with their arguments, parent and result, as BCC's
// execsnoop shows them. The entry tracepoint copies the file name and up to
// `max_args` - 1 further arguments into a per-thread record; the exit tracepoint adds
// the result, the (new) command name and the parent's pid, and emits the record.
#include "trace.bpf.h"
#include <bpf/bpf_core_read.h>

#define ARGSIZE 128
#define TOTAL_MAX_ARGS 60
#define ARGS_LEN (TOTAL_MAX_ARGS * ARGSIZE)
#define LAST_ARG (ARGS_LEN - ARGSIZE)

/* Set before the load. */
const volatile __s32 max_args = 20;
const volatile __u8 include_failed = 0;

struct task_struct {
  int tgid;
  struct task_struct *real_parent;
} __attribute__((preserve_access_index));

struct exec_event {
  __u64 ts;
  __u32 pid;
  __u32 ppid;
  __u32 uid;
  __s32 retval;
  __u32 args_count;
  __u32 args_size;
  __u32 truncated;
  char comm[TASK_COMM_LEN];
  char args[ARGS_LEN];
};

#define HEADER_SIZE __builtin_offsetof(struct exec_event, args)

/* The offsets src/cli/trace-events.ts reads. */
_Static_assert(__builtin_offsetof(struct exec_event, truncated) == 32, "truncated");
_Static_assert(__builtin_offsetof(struct exec_event, comm) == 36, "comm");
_Static_assert(HEADER_SIZE == 52, "args");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct exec_event);
} execs SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct exec_event);
} scratch SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_execve")
int enter_execve(struct syscall_enter_ctx *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id, zero = 0;
  struct exec_event *e = bpf_map_lookup_elem(&scratch, &zero);
  if (!e)
    return 0;
  const char *filename = (const char *)ctx->args[0];
  const char *const *argv = (const char *const *)ctx->args[1];
  e->pid = id >> 32;
  e->ppid = 0;
  e->uid = (__u32)bpf_get_current_uid_gid();
  e->retval = 0;
  e->args_count = 0;
  e->args_size = 0;
  e->truncated = 0;

  /* The file name stands for argv[0], as execsnoop shows it. */
  long n = bpf_probe_read_user_str(e->args, ARGSIZE, filename);
  if (n <= 0) {
    e->args[0] = '\0';
    n = 1;
  }
  e->args_size = n;
  e->args_count = 1;

  int i;
  const char *argp = 0;
  for (i = 1; i < TOTAL_MAX_ARGS && i < max_args; i++) {
    argp = 0;
    bpf_probe_read_user(&argp, sizeof(argp), &argv[i]);
    if (!argp)
      goto store;
    __u32 at = e->args_size;
    if (at > LAST_ARG)
      goto store;
    n = bpf_probe_read_user_str(&e->args[at], ARGSIZE, argp);
    if (n <= 0)
      goto store;
    e->args_count++;
    e->args_size = at + n;
  }
  /* Is there one more argument than we copied? */
  argp = 0;
  bpf_probe_read_user(&argp, sizeof(argp), &argv[i]);
  if (argp)
    e->truncated = 1;
store:
  bpf_map_update_elem(&execs, &tid, e, BPF_ANY);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int exit_execve(struct syscall_exit_ctx *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id;
  struct exec_event *e = bpf_map_lookup_elem(&execs, &tid);
  if (!e)
    return 0;
  __s64 ret = ctx->ret;
  if (ret < 0 && !include_failed)
    goto cleanup;
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  e->ts = bpf_ktime_get_ns();
  e->retval = (__s32)ret;
  e->pid = id >> 32;
  e->ppid = BPF_CORE_READ(task, real_parent, tgid);
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  __u32 size = e->args_size;
  if (size > ARGS_LEN)
    size = ARGS_LEN;
  emit(ctx, e, HEADER_SIZE + size);
cleanup:
  bpf_map_delete_elem(&execs, &tid);
  return 0;
}
