// tsbpf trace cpudist: how long tasks run on a CPU each time they are scheduled (or,
// with -O, how long they stay off it), as log2 histograms, as BCC's cpudist shows it.
// sched_switch ends the span of one task and starts the other's.
#include "hist.bpf.h"
#include "sched.bpf.h"

/* Set before the load: 1 = measure off-CPU time. */
const volatile __u8 targ_offcpu = 0;

/* sched_switch(bool preempt, struct task_struct *prev, struct task_struct *next, ...) */
SEC("raw_tp/sched_switch")
int switch_task(struct bpf_raw_tracepoint_args *ctx) {
  struct task_struct *prev = (struct task_struct *)ctx->args[1];
  struct task_struct *next = (struct task_struct *)ctx->args[2];
  if (targ_offcpu) {
    stamp_task(prev);
    count_task(next);
  } else {
    count_task(prev);
    stamp_task(next);
  }
  return 0;
}
