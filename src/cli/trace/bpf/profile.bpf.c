// tsbpf trace profile: samples what each CPU runs (a cpu-clock perf event per CPU
// runs this program every period), counting samples per process, command name and
// pair of user and kernel stacks, as BCC's profile does.
#include "stack.bpf.h"

/* Only this process (thread group); 0 = every one. */
const volatile __u32 targ_tgid = 0;

SEC("perf_event")
int do_sample(void *ctx) {
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (targ_tgid && tgid != targ_tgid)
    return 0;
  struct stack_key key = {.pid = tgid, .tgid = tgid};
  bpf_get_current_comm(&key.comm, sizeof(key.comm));
  save_stacks(ctx, &key);
  count_add(&key, 1);
  return 0;
}
