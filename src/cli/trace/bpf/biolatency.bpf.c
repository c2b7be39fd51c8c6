// tsbpf trace biolatency: block I/O latency as log2 histograms, as BCC's biolatency
// shows them. block_rq_issue stamps each request (block_rq_insert does first with -Q,
// so the time queued in the kernel counts), block_rq_complete adds the time since the
// stamp to the histogram of the request's disk (or of disk 0 without -D).
#include "block.bpf.h"
#include "hist.bpf.h"

/* Set before the load. */
const volatile __u8 targ_queued = 0;
const volatile __u8 targ_per_disk = 0;
const volatile __u8 targ_ms = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, struct rq_key);
  __type(value, __u64);
} start SEC(".maps");

static __always_inline int stamp(void *ctx, __u64 flags) {
  struct rq_key key;
  if (!rq_key_of(ctx, &key))
    return 0;
  __u64 ts = bpf_ktime_get_ns();
  bpf_map_update_elem(&start, &key, &ts, flags);
  return 0;
}

SEC("tracepoint/block/block_rq_insert")
int rq_insert(void *ctx) { return stamp(ctx, BPF_ANY); }

/* With -Q a request that went through the scheduler keeps its insert stamp; one
 * dispatched directly is stamped here. */
SEC("tracepoint/block/block_rq_issue")
int rq_issue(void *ctx) { return stamp(ctx, targ_queued ? BPF_NOEXIST : BPF_ANY); }

SEC("tracepoint/block/block_rq_complete")
int rq_complete(void *ctx) {
  struct rq_key key;
  if (!rq_key_of(ctx, &key))
    return 0;
  __u64 *ts = bpf_map_lookup_elem(&start, &key);
  if (!ts)
    return 0;
  __s64 delta = (__s64)(bpf_ktime_get_ns() - *ts);
  if (delta >= 0)
    hist_add(targ_per_disk ? key.dev : 0, targ_ms ? delta / 1000000 : delta / 1000);
  bpf_map_delete_elem(&start, &key);
  return 0;
}
