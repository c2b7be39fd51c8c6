/* Shared by tsbpf's stack tools (profile, offcputime): stack traces saved in a
 * BPF_MAP_TYPE_STACK_TRACE map (one id per distinct stack, user space reads the
 * addresses by id), and a hash that sums a value (samples, microseconds) per thread or
 * process, command name and pair of stacks. User space sets the stack map's size
 * (--stack-storage-size) before the load. */
#ifndef TSBPF_STACK_BPF_H
#define TSBPF_STACK_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16
/* The kernel's default kernel.perf_event_max_stack. */
#define MAX_STACK_DEPTH 127

/* What the sums are kept under (32 bytes; user space decodes the same layout). */
struct stack_key {
  __u32 pid;  /* the thread (offcputime) or the process (profile) */
  __u32 tgid; /* the process: user addresses are resolved in its maps */
  __s32 user_stack_id;   /* < 0: -errno from bpf_get_stackid, or -1 when not taken */
  __s32 kernel_stack_id;
  char comm[TASK_COMM_LEN];
};

struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, 16384);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stack_traces SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, struct stack_key);
  __type(value, __u64);
} counts SEC(".maps");

/* Set before the load: 0 leaves that stack out (-K and -U). */
const volatile __u8 user_stacks = 1;
const volatile __u8 kernel_stacks = 1;

/* Saves the current task's stacks (as `ctx` shows them) and puts their ids in `key`. */
static __always_inline void save_stacks(void *ctx, struct stack_key *key) {
  key->user_stack_id = user_stacks ? bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK) : -1;
  key->kernel_stack_id = kernel_stacks ? bpf_get_stackid(ctx, &stack_traces, 0) : -1;
}

/* Adds `n` to the sum kept under `key`. */
static __always_inline void count_add(struct stack_key *key, __u64 n) {
  __u64 zero = 0;
  __u64 *sum = bpf_map_lookup_elem(&counts, key);
  if (!sum) {
    /* Another CPU may insert the same key meanwhile: NOEXIST keeps its sum. */
    bpf_map_update_elem(&counts, key, &zero, BPF_NOEXIST);
    sum = bpf_map_lookup_elem(&counts, key);
    if (!sum)
      return;
  }
  __sync_fetch_and_add(sum, n);
}

char LICENSE[] SEC("license") = "GPL";

#endif
