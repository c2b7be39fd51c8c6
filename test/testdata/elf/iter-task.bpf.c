// A task iterator (SEC("iter/task")): one line "TGID PID COMM" per thread, written with
// bpf_seq_printf. The kernel types are declared here with preserve_access_index, so
// their offsets are CO-RE relocations resolved against the running kernel at load.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct seq_file;

struct bpf_iter_meta {
  struct seq_file *seq;
  __u64 session_id;
  __u64 seq_num;
} __attribute__((preserve_access_index));

struct task_struct {
  int pid;
  int tgid;
  char comm[16];
} __attribute__((preserve_access_index));

struct bpf_iter__task {
  struct bpf_iter_meta *meta;
  struct task_struct *task;
} __attribute__((preserve_access_index));

SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx) {
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  static const char fmt[] = "%d %d %s\n";
  __u64 args[3];

  if (!task)
    return 0;
  args[0] = task->tgid;
  args[1] = task->pid;
  args[2] = (__u64)(long)task->comm;
  bpf_seq_printf(seq, fmt, sizeof(fmt), args, sizeof(args));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
