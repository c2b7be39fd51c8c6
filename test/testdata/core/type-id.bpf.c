// CO-RE type id relocations: bpf_core_type_id_local (BPF_CORE_TYPE_ID_LOCAL, the id of
// a type in this object's BTF) and bpf_core_type_id_kernel (BPF_CORE_TYPE_ID_TARGET,
// the id of the matching type in the kernel's BTF), for a struct, a ___flavour of it,
// a typedef and an int. A socket filter stores them in globals; run it with
// BPF_PROG_TEST_RUN and compare with the ids in the object and in vmlinux.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___flavour {
  int pid;
} __attribute__((preserve_access_index));

__u32 local_task, kernel_task, local_flavour, kernel_flavour, local_pid_t, kernel_pid_t,
    kernel_u64;

SEC("socket")
int type_ids(void *ctx) {
  local_task = bpf_core_type_id_local(struct task_struct);
  kernel_task = bpf_core_type_id_kernel(struct task_struct);
  local_flavour = bpf_core_type_id_local(struct task_struct___flavour);
  kernel_flavour = bpf_core_type_id_kernel(struct task_struct___flavour);
  local_pid_t = bpf_core_type_id_local(pid_t);
  kernel_pid_t = bpf_core_type_id_kernel(pid_t);
  kernel_u64 = bpf_core_type_id_kernel(__u64);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
