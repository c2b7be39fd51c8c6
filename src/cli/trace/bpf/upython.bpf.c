/* BCC's ucalls, uflow and ugc for Python, on CPython's USDT probes through libbpf's
 * bpf/usdt.bpf.h (arguments with bpf_usdt_arg(), the spec id from the BPF cookie or,
 * on kernels without cookies, the IP map). Only the process `targ_tgid` is traced:
 * the tools attach their uprobes to that one process.
 *
 *   python:function__entry / function__return (filename, funcname, lineno):
 *     ucalls counts calls per method (and with `targ_latency`, the time inside it,
 *     from a per-thread stack of entry times and methods: a return that is not the
 *     top frame's, such as a profile hook's, pops nothing); uflow sends each entry
 *     and return.
 *   python:gc__start (generation) / gc__done (objects collected): ugc sends one event
 *     per collection with its start and end times.
 *
 * x86-64: __TARGET_ARCH_x86 only decides PT_REGS_IP, which usdt.bpf.h reads on kernels
 * without BPF cookies. */
#define __TARGET_ARCH_x86
#include <stdbool.h>
#include "trace.bpf.h"
#include <linux/ptrace.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#define NAME_LEN 80
#define MAX_DEPTH 256

const volatile __u32 targ_tgid = 0;
const volatile __u8 targ_latency = 0;

struct method {
  char file[NAME_LEN];
  char func[NAME_LEN];
};

struct method_stats {
  __u64 calls;
  __u64 ns;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, struct method);
  __type(value, struct method_stats);
} calls SEC(".maps");

/* A thread's call stack for latency: depth per thread, entry time and method per
 * (thread, depth). */
struct frame_key {
  __u32 tid;
  __u32 depth;
};

struct frame {
  __u64 ts;
  struct method m;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, __u32);
} depths SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, struct frame_key);
  __type(value, struct frame);
} entered SEC(".maps");

/* A single-slot scratch frame: two 80-byte names and a copy do not fit the stack. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct frame);
} scratch SEC(".maps");

#define FLOW_ENTRY 1
#define FLOW_RETURN 2

struct flow_event {
  __u8 kind;
  __u8 pad;
  __u16 cpu;
  __u32 pid;
  __u32 tid;
  __u32 pad2;
  __u64 ts;
  struct method m;
};

struct gc_event {
  __u64 start;
  __u64 end;
  __s64 gen;
  __s64 collected;
};

struct gc_start {
  __u64 ts;
  __s64 gen;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, struct gc_start);
} gc_started SEC(".maps");

static __always_inline bool traced(void) {
  return (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

/* The scratch frame with the method named by the probe's arguments, zero-padded so
 * that whole frames compare and hash alike. */
static __always_inline struct frame *read_frame(void *file, void *func) {
  __u32 zero = 0;
  struct frame *f = bpf_map_lookup_elem(&scratch, &zero);
  if (!f)
    return 0;
  __builtin_memset(f, 0, sizeof(*f));
  bpf_probe_read_user_str(f->m.file, sizeof(f->m.file), file);
  bpf_probe_read_user_str(f->m.func, sizeof(f->m.func), func);
  return f;
}

static const struct method_stats no_stats;

static __always_inline bool same_method(const struct method *a, const struct method *b) {
  const __u64 *x = (const void *)a, *y = (const void *)b;

#pragma unroll
  for (int i = 0; i < sizeof(struct method) / 8; i++)
    if (x[i] != y[i])
      return false;
  return true;
}

SEC("usdt")
int BPF_USDT(ucalls_entry, void *file, void *func, int line) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct method_stats *s;
  struct frame *f;

  if (!traced())
    return 0;
  f = read_frame(file, func);
  if (!f)
    return 0;
  s = bpf_map_lookup_elem(&calls, &f->m);
  if (!s) {
    bpf_map_update_elem(&calls, &f->m, &no_stats, BPF_NOEXIST);
    s = bpf_map_lookup_elem(&calls, &f->m);
    if (!s)
      return 0;
  }
  __sync_fetch_and_add(&s->calls, 1);
  if (targ_latency) {
    __u32 one = 1, *d = bpf_map_lookup_elem(&depths, &tid);
    struct frame_key k = {.tid = tid};

    if (!d) {
      bpf_map_update_elem(&depths, &tid, &one, BPF_ANY);
      k.depth = 1;
    } else {
      if (*d >= MAX_DEPTH)
        return 0;
      k.depth = ++*d;
    }
    f->ts = bpf_ktime_get_ns();
    bpf_map_update_elem(&entered, &k, f, BPF_ANY);
  }
  return 0;
}

SEC("usdt")
int BPF_USDT(ucalls_return, void *file, void *func, int line) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct frame_key k = {.tid = tid};
  struct method_stats *s;
  struct frame *top, *f;
  __u32 *d;

  if (!traced() || !targ_latency)
    return 0;
  d = bpf_map_lookup_elem(&depths, &tid);
  if (!d || *d == 0)
    return 0; /* entered before the tool attached */
  k.depth = *d;
  top = bpf_map_lookup_elem(&entered, &k);
  f = read_frame(file, func);
  if (!top || !f || !same_method(&top->m, &f->m))
    return 0;
  __u64 delta = bpf_ktime_get_ns() - top->ts;
  *d -= 1;
  bpf_map_delete_elem(&entered, &k);
  s = bpf_map_lookup_elem(&calls, &f->m);
  if (s)
    __sync_fetch_and_add(&s->ns, delta);
  return 0;
}

static __always_inline int flow(void *ctx, __u8 kind, void *file, void *func) {
  __u64 id = bpf_get_current_pid_tgid();
  struct flow_event e = {};
  if (!traced())
    return 0;
  e.kind = kind;
  e.cpu = bpf_get_smp_processor_id();
  e.pid = id >> 32;
  e.tid = (__u32)id;
  e.ts = bpf_ktime_get_ns();
  bpf_probe_read_user_str(e.m.file, sizeof(e.m.file), file);
  bpf_probe_read_user_str(e.m.func, sizeof(e.m.func), func);
  emit(ctx, &e, sizeof(e));
  return 0;
}

SEC("usdt")
int BPF_USDT(uflow_entry, void *file, void *func, int line) {
  return flow(ctx, FLOW_ENTRY, file, func);
}

SEC("usdt")
int BPF_USDT(uflow_return, void *file, void *func, int line) {
  return flow(ctx, FLOW_RETURN, file, func);
}

SEC("usdt")
int BPF_USDT(ugc_start, int gen) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct gc_start s = {};

  if (!traced())
    return 0;
  s.ts = bpf_ktime_get_ns();
  s.gen = gen;
  bpf_map_update_elem(&gc_started, &tid, &s, BPF_ANY);
  return 0;
}

SEC("usdt")
int BPF_USDT(ugc_done, long collected) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct gc_event e = {};
  struct gc_start *s;

  if (!traced())
    return 0;
  s = bpf_map_lookup_elem(&gc_started, &tid);
  if (!s)
    return 0;
  e.start = s->ts;
  e.gen = s->gen;
  e.end = bpf_ktime_get_ns();
  e.collected = collected;
  bpf_map_delete_elem(&gc_started, &tid);
  emit(ctx, &e, sizeof(e));
  return 0;
}
