// USDT programs built on libbpf's own bpf/usdt.bpf.h (libbpf-dev 1.1): BPF_USDT
// arguments read through bpf_usdt_arg(), the spec map, the IP-to-spec-id map on
// kernels without BPF cookies, bpf_usdt_cookie() and bpf_usdt_arg_cnt(). Python's
// function__entry probe is attached by its SEC() name; gc__start by hand. Only the
// process `target_tgid` (set at load) is counted (test/kernel-usdt.test.ts).
#define __TARGET_ARCH_x86
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;

#define NAME_LEN 48

struct call_key {
  char func[NAME_LEN];
};

struct call_stats {
  __u64 count;
  __s64 line;
  __s64 arg_cnt;
  __s64 cookie;
  char file[128];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct call_key);
  __type(value, struct call_stats);
} calls SEC(".maps");

/* Slot 0: gc__start hits; 1: the last generation; 2: bpf_usdt_arg_cnt();
 * 3: bpf_usdt_arg() of a missing argument (-ENOENT). */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __s64);
} gc SEC(".maps");

static __always_inline int mine(void) {
  return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static struct call_stats zero;

SEC("usdt//usr/bin/python3:python:function__entry")
int BPF_USDT(function_entry, void *file, void *func, int line) {
  struct call_key key = {};
  struct call_stats *s;

  if (!mine())
    return 0;
  bpf_probe_read_user_str(key.func, sizeof(key.func), func);
  s = bpf_map_lookup_elem(&calls, &key);
  if (!s) {
    bpf_map_update_elem(&calls, &key, &zero, BPF_NOEXIST);
    s = bpf_map_lookup_elem(&calls, &key);
    if (!s)
      return 0;
  }
  __sync_fetch_and_add(&s->count, 1);
  s->line = line;
  s->arg_cnt = bpf_usdt_arg_cnt(ctx);
  s->cookie = bpf_usdt_cookie(ctx);
  bpf_probe_read_user_str(s->file, sizeof(s->file), file);
  return 0;
}

static __always_inline void gc_set(__u32 slot, __s64 v) {
  __s64 *p = bpf_map_lookup_elem(&gc, &slot);
  if (p)
    *p = v;
}

SEC("usdt")
int BPF_USDT(gc_start, int generation) {
  __u32 slot = 0;
  __s64 *hits;
  long missing;

  if (!mine())
    return 0;
  hits = bpf_map_lookup_elem(&gc, &slot);
  if (hits)
    __sync_fetch_and_add(hits, 1);
  gc_set(1, generation);
  gc_set(2, bpf_usdt_arg_cnt(ctx));
  gc_set(3, bpf_usdt_arg(ctx, 1, &missing));
  return 0;
}
