/* Shared by tsbpf's scheduler tools (runqlat, cpudist), on raw tracepoints: their
 * arguments are the kernel's task pointers, read with CO-RE through the fields
 * task.bpf.h declares. The sched tracepoints' records carry only the thread id; the
 * tools need the process id too. */
#ifndef TSBPF_SCHED_BPF_H
#define TSBPF_SCHED_BPF_H

#include "task.bpf.h"

/* Only this process (thread group); 0 = every one. */
const volatile __u32 targ_tgid = 0;
/* Histogram per: 0 nothing (one histogram), 1 process (-P), 2 thread (-L). */
const volatile __u8 targ_per = 0;
const volatile __u8 targ_ms = 0;

/* When each thread (by tid) was stamped. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, __u64);
} start SEC(".maps");

/* Whether the thread switched out is still runnable: preempted, or TASK_RUNNING. */
static __always_inline int still_runnable(int preempt, struct task_struct *prev) {
  return preempt || task_state(prev) == 0;
}

/* Stamps `p` now, unless filtered out or the idle task. */
static __always_inline void stamp_task(struct task_struct *p) {
  __u32 pid = BPF_CORE_READ(p, pid);
  if (!pid || (targ_tgid && (__u32)BPF_CORE_READ(p, tgid) != targ_tgid))
    return;
  __u64 ts = bpf_ktime_get_ns();
  bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
}

/* Counts the time since `p` was stamped in its histogram, and forgets the stamp. */
static __always_inline void count_task(struct task_struct *p) {
  __u32 pid = BPF_CORE_READ(p, pid);
  __u64 *ts = bpf_map_lookup_elem(&start, &pid);
  if (!ts)
    return;
  __s64 delta = (__s64)(bpf_ktime_get_ns() - *ts);
  bpf_map_delete_elem(&start, &pid);
  if (delta < 0)
    return;
  __u32 label = targ_per == 1 ? (__u32)BPF_CORE_READ(p, tgid) : targ_per == 2 ? pid : 0;
  hist_add(label, targ_ms ? delta / 1000000 : delta / 1000);
}

#endif
