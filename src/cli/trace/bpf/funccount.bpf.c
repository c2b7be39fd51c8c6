// tsbpf trace funccount: calls per function, as BCC's funccount counts them. One
// program body serves every probe: the probe's BPF cookie (its index in the tool's
// list of functions) is the key of the count, so a thousand functions need one
// program, not a thousand. User space picks the program for the attach kind:
//   count_probe         uprobes and kprobes through perf events (one per function)
//   count_uprobe_multi  one uprobe.multi link for many functions (Linux >= 6.6)
//   count_tracepoint    tracepoints through perf links
// Cookies need Linux >= 5.15. `targ_tgid` keeps one process's calls (0: all).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 targ_tgid = 0;

/* cookie (function index) -> calls. Room for more than the tool's 1000-probe limit. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);
  __type(value, __u64);
} counts SEC(".maps");

static __always_inline int count(void *ctx) {
  if (targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid)
    return 0;
  __u64 key = bpf_get_attach_cookie(ctx);
  __u64 *n = bpf_map_lookup_elem(&counts, &key);
  if (n) {
    __sync_fetch_and_add(n, 1);
    return 0;
  }
  __u64 one = 1;
  /* Another CPU may have made the entry since the lookup: add to it then. */
  if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST)) {
    n = bpf_map_lookup_elem(&counts, &key);
    if (n)
      __sync_fetch_and_add(n, 1);
  }
  return 0;
}

SEC("kprobe")
int count_probe(void *ctx) {
  return count(ctx);
}

SEC("uprobe.multi")
int count_uprobe_multi(void *ctx) {
  return count(ctx);
}

SEC("tracepoint")
int count_tracepoint(void *ctx) {
  return count(ctx);
}

char LICENSE[] SEC("license") = "GPL";
