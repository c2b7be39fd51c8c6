/* Shared by tsbpf's trace tools: the tracepoint records of the syscalls group (the
 * layouts tracefs prints in events/syscalls/sys_{enter,exit}_NAME/format: an 8-byte
 * common header, __syscall_nr padded to 8, then each argument or the return value as
 * an 8-byte long), and the event output that goes to a ring buffer or, on kernels
 * without one (before 5.8), to a perf event array, chosen when the object is loaded
 * through the `use_ringbuf` constant. */
#ifndef TSBPF_TRACE_BPF_H
#define TSBPF_TRACE_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16

struct syscall_enter_ctx {
  __u64 common;
  __s64 syscall_nr;
  __u64 args[6];
};

struct syscall_exit_ctx {
  __u64 common;
  __s64 syscall_nr;
  __s64 ret;
};

/* Set by user space before the load: 0 on kernels without BPF ring buffers. The map
 * the other branch names is then a placeholder, and the verifier skips that branch
 * because .rodata is frozen. */
const volatile __u8 use_ringbuf = 1;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

/* Events a full ring buffer refused (a full perf buffer counts its own losses and
 * reports them to the reader). */
__u64 ringbuf_lost = 0;

static __always_inline void emit(void *ctx, void *data, __u64 size) {
  if (use_ringbuf) {
    if (bpf_ringbuf_output(&events, data, size, 0))
      __sync_fetch_and_add(&ringbuf_lost, 1);
  } else {
    bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, data, size);
  }
}

char LICENSE[] SEC("license") = "GPL";

#endif
