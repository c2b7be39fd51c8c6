// tsbpf trace runqlat: run queue latency (from wakeup to running) as log2 histograms,
// as BCC's runqlat shows it. sched_wakeup and sched_wakeup_new stamp the woken task,
// sched_switch stamps the task it switches out when that one is still runnable (it
// waits on the run queue again) and counts the time the next task waited.
#include "hist.bpf.h"
#include "sched.bpf.h"

SEC("raw_tp/sched_wakeup")
int wakeup(struct bpf_raw_tracepoint_args *ctx) {
  stamp_task((struct task_struct *)ctx->args[0]);
  return 0;
}

SEC("raw_tp/sched_wakeup_new")
int wakeup_new(struct bpf_raw_tracepoint_args *ctx) {
  stamp_task((struct task_struct *)ctx->args[0]);
  return 0;
}

/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next, ...) */
SEC("raw_tp/sched_switch")
int switch_task(struct bpf_raw_tracepoint_args *ctx) {
  struct task_struct *prev = (struct task_struct *)ctx->args[1];
  if (still_runnable((int)(ctx->args[0] & 1), prev))
    stamp_task(prev);
  count_task((struct task_struct *)ctx->args[2]);
  return 0;
}
