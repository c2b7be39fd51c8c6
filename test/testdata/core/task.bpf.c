// CO-RE on task_struct, built against a vmlinux.h (see build.sh): BPF_CORE_READ of
// pid, tgid and real_parent->tgid, field and type existence, enum values, type size
// and match, a bitfield, and a ___flavour struct whose field the kernel does not have,
// read only behind bpf_core_field_exists(). The raw_tp program runs with
// BPF_PROG_TEST_RUN in the calling thread, so the results are the test's own ids.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___missing {
  int no_such_field;
} __attribute__((preserve_access_index));

struct no_such_type___x {
  int a;
} __attribute__((preserve_access_index));

enum pid_type___local { PIDTYPE_TGID___local = 99, PIDTYPE_NOPE___local = 100 };

__u32 out_pid, out_tgid, out_ppid;
__u32 has_pid, has_missing, missing_value;
__u64 pidtype_tgid, has_pidtype_nope, task_size, type_missing, regs_match;
__u64 reset_on_fork, runs;

SEC("raw_tp/sys_enter")
int read_task(void *ctx) {
  struct task_struct *t = (void *)bpf_get_current_task();
  struct task_struct___missing *m = (void *)t;

  out_pid = BPF_CORE_READ(t, pid);
  out_tgid = BPF_CORE_READ(t, tgid);
  out_ppid = BPF_CORE_READ(t, real_parent, tgid);
  has_pid = bpf_core_field_exists(t->pid);
  has_missing = bpf_core_field_exists(m->no_such_field);
  if (bpf_core_field_exists(m->no_such_field))
    missing_value = BPF_CORE_READ(m, no_such_field);
  else
    missing_value = 42;
  pidtype_tgid = bpf_core_enum_value(enum pid_type___local, PIDTYPE_TGID___local);
  has_pidtype_nope = bpf_core_enum_value_exists(enum pid_type___local, PIDTYPE_NOPE___local);
  task_size = bpf_core_type_size(struct task_struct);
  type_missing = bpf_core_type_exists(struct no_such_type___x);
  regs_match = bpf_core_type_matches(struct pt_regs);
  reset_on_fork = BPF_CORE_READ_BITFIELD_PROBED(t, sched_reset_on_fork);
  runs++;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
