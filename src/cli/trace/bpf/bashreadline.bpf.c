// tsbpf trace bashreadline: each line an interactive bash read, as BCC's bashreadline
// shows them, from a uretprobe on readline() (in /bin/bash, or in a libreadline given
// with -s): its return value is the line typed, or NULL at end of input.
#define __TARGET_ARCH_x86
#include "trace.bpf.h"
#include <linux/ptrace.h>
#include <bpf/bpf_tracing.h>

#define LINE_LEN 80

struct readline_event {
  __u64 ts;
  __u32 pid;
  __u32 pad;
  char comm[TASK_COMM_LEN];
  char line[LINE_LEN];
};

/* The offsets src/cli/trace/bashreadline.ts reads. */
_Static_assert(__builtin_offsetof(struct readline_event, comm) == 16, "comm");
_Static_assert(__builtin_offsetof(struct readline_event, line) == 32, "line");
_Static_assert(sizeof(struct readline_event) == 112, "size");

SEC("uretprobe")
int readline_return(struct pt_regs *ctx) {
  const char *line = (const char *)PT_REGS_RC(ctx);
  if (!line)
    return 0;
  struct readline_event e = {};
  e.ts = bpf_ktime_get_ns();
  e.pid = bpf_get_current_pid_tgid() >> 32;
  bpf_get_current_comm(e.comm, sizeof(e.comm));
  bpf_probe_read_user_str(e.line, sizeof(e.line), line);
  emit(ctx, &e, sizeof(e));
  return 0;
}
