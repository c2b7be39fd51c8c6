// .kconfig and __ksym externs (variables and kfuncs), and CO-RE relocations (field offset, existence,
// type existence, enum value) kept for resolution at load.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern const void bpf_prog_active __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym __weak;

struct task_struct {
  int pid;
  int tgid;
  struct task_struct *real_parent;
} __attribute__((preserve_access_index));

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID };

__u64 seen;

SEC("raw_tp/sys_enter")
int core_prog(void *ctx) {
  struct task_struct *t = (void *)bpf_get_current_task();
  bpf_rcu_read_lock();
  int ppid = BPF_CORE_READ(t, real_parent, tgid);
  if (bpf_core_field_exists(t->pid))
    seen += ppid;
  if (bpf_core_type_exists(struct task_struct))
    seen += bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
  seen += LINUX_KERNEL_VERSION + CONFIG_HZ + CONFIG_BPF_SYSCALL;
  seen += (__u64)&bpf_prog_active;
  bpf_rcu_read_unlock();
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
