// tsbpf trace biosnoop: one event per block I/O, as BCC's biosnoop shows them. The
// issue (and, with -Q, the insert) records who was on the CPU, the direction and the
// size; the completion emits them with the latency since the issue and the time queued
// before it.
#include "trace.bpf.h"
#include "block.bpf.h"

#define RWBS_LEN 12

/* Set before the load: offsets of comm and rwbs in block_rq_issue/insert, and of
 * rwbs's size (8 before Linux 6.10, 10 since). */
const volatile __u32 off_rwbs = 32;
const volatile __u32 rwbs_size = 8;

struct start_info {
  __u64 insert_ts;
  __u64 issue_ts;
  __u32 pid;
  __u32 bytes;
  char comm[TASK_COMM_LEN];
  char rwbs[RWBS_LEN];
};

struct bio_event {
  __u64 ts;
  __u64 lat_ns;
  __u64 queue_ns;
  __u64 sector;
  __u32 dev;
  __u32 pid;
  __u32 bytes;
  char comm[TASK_COMM_LEN];
  char rwbs[RWBS_LEN];
};

/* The offsets src/cli/trace/bio-events.ts reads. */
_Static_assert(__builtin_offsetof(struct bio_event, dev) == 32, "dev");
_Static_assert(__builtin_offsetof(struct bio_event, comm) == 44, "comm");
_Static_assert(__builtin_offsetof(struct bio_event, rwbs) == 60, "rwbs");
_Static_assert(sizeof(struct bio_event) == 72, "size");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, struct rq_key);
  __type(value, struct start_info);
} start SEC(".maps");

static __always_inline void fill(void *ctx, struct start_info *s) {
  s->pid = bpf_get_current_pid_tgid() >> 32;
  s->bytes = rq_sectors(ctx) * 512;
  bpf_get_current_comm(s->comm, sizeof(s->comm));
  __u32 n = rwbs_size < RWBS_LEN - 1 ? rwbs_size : RWBS_LEN - 1;
  bpf_probe_read_kernel(s->rwbs, n & (RWBS_LEN - 1), ctx + off_rwbs);
}

SEC("tracepoint/block/block_rq_insert")
int rq_insert(void *ctx) {
  struct rq_key key;
  if (!rq_key_of(ctx, &key))
    return 0;
  struct start_info s = {};
  s.insert_ts = bpf_ktime_get_ns();
  fill(ctx, &s);
  bpf_map_update_elem(&start, &key, &s, BPF_ANY);
  return 0;
}

SEC("tracepoint/block/block_rq_issue")
int rq_issue(void *ctx) {
  struct rq_key key;
  if (!rq_key_of(ctx, &key))
    return 0;
  __u64 now = bpf_ktime_get_ns();
  struct start_info *s = bpf_map_lookup_elem(&start, &key);
  if (s) {
    s->issue_ts = now;
    return 0;
  }
  struct start_info fresh = {};
  fresh.issue_ts = now;
  fill(ctx, &fresh);
  bpf_map_update_elem(&start, &key, &fresh, BPF_ANY);
  return 0;
}

SEC("tracepoint/block/block_rq_complete")
int rq_complete(void *ctx) {
  struct rq_key key;
  if (!rq_key_of(ctx, &key))
    return 0;
  struct start_info *s = bpf_map_lookup_elem(&start, &key);
  if (!s)
    return 0;
  if (s->issue_ts) {
    struct bio_event e = {};
    e.ts = bpf_ktime_get_ns();
    e.lat_ns = e.ts - s->issue_ts;
    e.queue_ns = s->insert_ts ? s->issue_ts - s->insert_ts : 0;
    e.sector = key.sector;
    e.dev = key.dev;
    e.pid = s->pid;
    e.bytes = s->bytes;
    __builtin_memcpy(e.comm, s->comm, sizeof(e.comm));
    __builtin_memcpy(e.rwbs, s->rwbs, sizeof(e.rwbs));
    emit(ctx, &e, sizeof(e));
  }
  bpf_map_delete_elem(&start, &key);
  return 0;
}
