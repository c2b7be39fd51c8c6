// Externs resolved at load: kconfig values (libbpf's LINUX_KERNEL_VERSION, an int, a
// bool, a tristate, a string, a weak missing one), a typeless __ksym (address from
// /proc/kallsyms) and kfuncs (BTF ids). (Typed __ksym variables need a kernel with
// CONFIG_KALLSYMS_ALL, which this one lacks.)
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig __weak;
extern char CONFIG_LOCALVERSION[16] __kconfig __weak;
extern int CONFIG_TSBPF_NO_SUCH_OPTION __kconfig __weak;
extern const void schedule __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

__u64 version, hz, bpf_syscall, jit, missing, schedule_addr;
char localversion[16];

SEC("raw_tp/sys_enter")
int read_externs(void *ctx) {
  version = LINUX_KERNEL_VERSION;
  hz = CONFIG_HZ;
  bpf_syscall = CONFIG_BPF_SYSCALL;
  jit = CONFIG_BPF_JIT;
  missing = CONFIG_TSBPF_NO_SUCH_OPTION;
  __builtin_memcpy(localversion, CONFIG_LOCALVERSION, sizeof(localversion));
  schedule_addr = (__u64)&schedule;
  bpf_rcu_read_lock();
  bpf_rcu_read_unlock();
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
