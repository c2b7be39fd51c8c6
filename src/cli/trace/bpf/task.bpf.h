/* The few task_struct fields tsbpf's scheduler tools read (runqlat, cpudist,
 * offcputime), declared for CO-RE: relocated against the running kernel's BTF at load
 * time, so no vmlinux.h is needed and the objects build the same on any machine. */
#ifndef TSBPF_TASK_BPF_H
#define TSBPF_TASK_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
  int pid;
  int tgid;
  unsigned int flags;
  unsigned int __state;
} __attribute__((preserve_access_index));

/* Before Linux 5.14 the field was `long state`. */
struct task_struct___pre514 {
  long state;
} __attribute__((preserve_access_index));

/* The task's state (TASK_RUNNING is 0), from whichever field this kernel has. */
static __always_inline long task_state(struct task_struct *t) {
  if (bpf_core_field_exists(t->__state))
    return BPF_CORE_READ(t, __state);
  return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

#endif
