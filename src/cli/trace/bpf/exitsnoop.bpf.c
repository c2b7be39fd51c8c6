// tsbpf trace exitsnoop: process terminations, as BCC's exitsnoop shows them. The
// sched:sched_process_exit tracepoint fires in the exiting task, so its pid, parent,
// start time and exit code are CO-RE reads of the current task_struct.
#include "trace.bpf.h"
#include <bpf/bpf_core_read.h>

/* Set before the load. */
const volatile __u32 targ_tgid = 0;
const volatile __u8 targ_failed = 0;
const volatile __u8 per_thread = 0;

struct task_struct {
  int pid;
  int tgid;
  int exit_code;
  __u64 start_time;
  struct task_struct *real_parent;
} __attribute__((preserve_access_index));

struct exit_event {
  __u64 ts;
  __u64 start_time;
  __u32 pid;
  __u32 tid;
  __u32 ppid;
  __s32 exit_code;
  char comm[TASK_COMM_LEN];
};

/* The offsets src/cli/trace/exitsnoop.ts reads. */
_Static_assert(__builtin_offsetof(struct exit_event, comm) == 32, "comm");
_Static_assert(sizeof(struct exit_event) == 48, "size");

SEC("tracepoint/sched/sched_process_exit")
int sched_exit(void *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  /* By default one line per process: its last thread's exit is the leader's. */
  if (!per_thread && tgid != tid)
    return 0;
  if (targ_tgid && targ_tgid != tgid)
    return 0;
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct exit_event e = {};
  e.exit_code = BPF_CORE_READ(task, exit_code);
  if (targ_failed && e.exit_code == 0)
    return 0;
  e.ts = bpf_ktime_get_ns();
  e.start_time = BPF_CORE_READ(task, start_time);
  e.pid = tgid;
  e.tid = tid;
  e.ppid = BPF_CORE_READ(task, real_parent, tgid);
  bpf_get_current_comm(e.comm, sizeof(e.comm));
  emit(ctx, &e, sizeof(e));
  return 0;
}
