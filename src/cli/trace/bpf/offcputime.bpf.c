// tsbpf trace offcputime: how long threads spend off a CPU, summed per thread, command
// name and pair of user and kernel stacks, as BCC's offcputime. On the sched_switch raw
// tracepoint the task switching out is still the current one: its stacks (where it
// blocked) and the time are saved under its thread id; when it switches back in the
// time off the CPU is added to its stacks' sum.
#include "stack.bpf.h"
#include "task.bpf.h"

/* include/linux/sched.h: the task is a kernel thread. */
#define PF_KTHREAD 0x00200000

/* Filters, set before the load (0 / -1: none). */
const volatile __u32 targ_tgid = 0;
const volatile __u32 targ_tid = 0;
const volatile __u8 user_threads_only = 0;
const volatile __u8 kernel_threads_only = 0;
const volatile __s64 targ_state = -1;
/* Only blocks of min_block_us..max_block_us microseconds count. */
const volatile __u64 min_block_us = 1;
const volatile __u64 max_block_us = (__u64)-1;

/* A thread off its CPU: since when, and where it blocked. */
struct off_cpu {
  __u64 ts;
  struct stack_key key;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct off_cpu);
} start SEC(".maps");

static __always_inline int wanted(struct task_struct *t, __u32 tid) {
  /* The idle task (tid 0, one per CPU) is off a CPU while the CPU is busy: no block. */
  if (!tid)
    return 0;
  if (targ_tgid && (__u32)BPF_CORE_READ(t, tgid) != targ_tgid)
    return 0;
  if (targ_tid && tid != targ_tid)
    return 0;
  if (user_threads_only || kernel_threads_only) {
    int kthread = (BPF_CORE_READ(t, flags) & PF_KTHREAD) != 0;
    if (user_threads_only ? kthread : !kthread)
      return 0;
  }
  if (targ_state != -1 && task_state(t) != targ_state)
    return 0;
  return 1;
}

/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next, ...) */
SEC("raw_tp/sched_switch")
int switch_task(struct bpf_raw_tracepoint_args *ctx) {
  struct task_struct *prev = (struct task_struct *)ctx->args[1];
  struct task_struct *next = (struct task_struct *)ctx->args[2];
  __u32 tid = BPF_CORE_READ(prev, pid);
  if (wanted(prev, tid)) {
    struct off_cpu off = {};
    off.key.pid = tid;
    off.key.tgid = BPF_CORE_READ(prev, tgid);
    bpf_get_current_comm(&off.key.comm, sizeof(off.key.comm));
    save_stacks(ctx, &off.key);
    off.ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&start, &tid, &off, BPF_ANY);
  }
  tid = BPF_CORE_READ(next, pid);
  struct off_cpu *off = bpf_map_lookup_elem(&start, &tid);
  if (!off)
    return 0;
  __u64 us = (bpf_ktime_get_ns() - off->ts) / 1000;
  struct stack_key key = off->key;
  bpf_map_delete_elem(&start, &tid);
  if (us < min_block_us || us > max_block_us)
    return 0;
  count_add(&key, us);
  return 0;
}
