// A CO-RE read of a field the kernel does not have, not guarded: the relocation
// poisons the load and the verifier rejects the program when it reaches it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___missing {
  int pid;
  int no_such_field;
} __attribute__((preserve_access_index));

__u32 value;

SEC("raw_tp/sys_enter")
int read_missing(void *ctx) {
  struct task_struct___missing *t = (void *)bpf_get_current_task();
  value = BPF_CORE_READ(t, pid);
  value += BPF_CORE_READ(t, no_such_field);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
