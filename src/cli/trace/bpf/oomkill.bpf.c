// tsbpf trace oomkill: OOM kills, as BCC's oomkill shows them, on the raw tracepoint
// mark_victim (the OOM killer chose its victim; no kprobe on oom_kill_process needed).
// It fires in the task whose allocation triggered the kill. Since Linux 6.8 its first
// argument is the victim's task_struct; before, the victim's pid: user space says
// which through `victim_is_task`, from the tracepoint's format.
#include "trace.bpf.h"
#include <bpf/bpf_core_read.h>

/* Set before the load: 1 when args[0] is a struct task_struct pointer. */
const volatile __u8 victim_is_task = 1;

struct mm_struct {
  unsigned long total_vm;
} __attribute__((preserve_access_index));

struct task_struct {
  int tgid;
  char comm[TASK_COMM_LEN];
  struct mm_struct *mm;
} __attribute__((preserve_access_index));

struct oom_event {
  __u64 ts;
  __u64 pages;
  __u32 trigger_pid;
  __u32 victim_pid;
  char trigger_comm[TASK_COMM_LEN];
  char victim_comm[TASK_COMM_LEN];
};

/* The offsets src/cli/trace/oomkill.ts reads. */
_Static_assert(__builtin_offsetof(struct oom_event, trigger_comm) == 24, "trigger_comm");
_Static_assert(sizeof(struct oom_event) == 56, "size");

SEC("raw_tp/mark_victim")
int mark_victim(struct bpf_raw_tracepoint_args *ctx) {
  struct oom_event e = {};
  e.ts = bpf_ktime_get_ns();
  e.trigger_pid = bpf_get_current_pid_tgid() >> 32;
  bpf_get_current_comm(e.trigger_comm, sizeof(e.trigger_comm));
  if (victim_is_task) {
    struct task_struct *victim = (struct task_struct *)ctx->args[0];
    e.victim_pid = BPF_CORE_READ(victim, tgid);
    BPF_CORE_READ_STR_INTO(&e.victim_comm, victim, comm);
    e.pages = BPF_CORE_READ(victim, mm, total_vm);
  } else {
    e.victim_pid = (__u32)ctx->args[0];
  }
  emit(ctx, &e, sizeof(e));
  return 0;
}
