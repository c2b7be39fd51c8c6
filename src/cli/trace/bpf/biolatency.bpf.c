// tsbpf trace biolatency: block I/O latency as log2 histograms, as BCC's biolatency
// shows them. block_rq_issue stamps each request (block_rq_insert does first with -Q,
// so the time queued in the kernel counts), block_rq_complete adds the time since the
// stamp to the histogram of the request's disk (or of disk 0 without -D), or with -F of
// its I/O flags as the stamping tracepoint's rwbs text shows them. -e also sums the
// latencies and counts them, for BCC's "avg = ..., total: ..., count: ..." line.
#include "block.bpf.h"
#include "hist.bpf.h"

/* Set before the load. */
const volatile __u8 targ_queued = 0;
const volatile __u8 targ_per_disk = 0;
const volatile __u8 targ_per_flags = 0;
const volatile __u8 targ_extended = 0;
const volatile __u8 targ_ms = 0;
/* Where block_rq_insert/issue keep rwbs, and its size (8 before Linux 6.10, 10 since). */
const volatile __u32 off_rwbs = 32;
const volatile __u32 rwbs_size = 8;

/* The -F label: the request operation in the low byte (REQ_OP_* numbers, 0xff when
 * rwbs does not say which), the flags rwbs shows at the kernel's REQ_* bit positions
 * (blk_types.h, __REQ_OP_BITS = 8): what src/cli/trace/block-flags.ts names. */
#define OP_UNKNOWN 0xff
#define REQ_OP_READ 0
#define REQ_OP_WRITE 1
#define REQ_OP_FLUSH 2
#define REQ_OP_DISCARD 3
#define REQ_OP_SECURE_ERASE 5
#define REQ_SYNC (1u << 11)
#define REQ_META (1u << 12)
#define REQ_FUA (1u << 17)
#define REQ_RAHEAD (1u << 19)
#define RWBS_MAX 16

struct start_val {
  __u64 ts;
  __u32 flags;
  __u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, struct rq_key);
  __type(value, struct start_val);
} start SEC(".maps");

/* -e: the sum of the latencies in nanoseconds and their number (BCC sums nanoseconds and
 * divides once, at the report). */
struct ext_val {
  __u64 total;
  __u64 count;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ext_val);
} extension SEC(".maps");

/* The flags of blk_fill_rwbs' text: an optional F (REQ_PREFLUSH, which BCC does not
 * name) before the operation letter (R W D DE F N), then F (FUA), A (read-ahead),
 * S (sync) and M (metadata). */
static __always_inline __u32 rwbs_flags(const char *s) {
  /* The first letters from one load: a choice between two of them stays a choice of
   * values, which clang would otherwise turn into a choice of stack addresses, and the
   * verifier allows no arithmetic on those. */
  __u32 head = *(const __u32 *)s;
  char c0 = head & 0xff, c1 = (head >> 8) & 0xff, c2 = (head >> 16) & 0xff;
  __u32 at = c0 == 'F' && (c1 == 'R' || c1 == 'W' || c1 == 'D' || c1 == 'N');
  char op = at ? c1 : c0, next = at ? c2 : c1;
  __u32 flags = op == 'R'   ? REQ_OP_READ
                : op == 'W' ? REQ_OP_WRITE
                : op == 'F' ? REQ_OP_FLUSH
                : op == 'D' ? (next == 'E' ? REQ_OP_SECURE_ERASE : REQ_OP_DISCARD)
                            : OP_UNKNOWN;
  if (flags == REQ_OP_SECURE_ERASE)
    at++;
#pragma unroll
  for (__u32 i = 1; i < RWBS_MAX - 1; i++) {
    if (i <= at)
      continue;
    if (!s[i])
      break;
    flags |= s[i] == 'F' ? REQ_FUA : s[i] == 'A' ? REQ_RAHEAD : s[i] == 'S' ? REQ_SYNC
           : s[i] == 'M' ? REQ_META : 0;
  }
  return flags;
}

static __always_inline int stamp(void *ctx, __u64 flags) {
  struct rq_key key;
  if (!rq_key_of(ctx, &key))
    return 0;
  struct start_val v = {.ts = bpf_ktime_get_ns()};
  if (targ_per_flags) {
    char rwbs[RWBS_MAX] __attribute__((aligned(4))) = {};
    __u32 n = rwbs_size < RWBS_MAX - 1 ? rwbs_size : RWBS_MAX - 1;
    bpf_probe_read_kernel(rwbs, n & (RWBS_MAX - 1), ctx + off_rwbs);
    v.flags = rwbs_flags(rwbs);
  }
  bpf_map_update_elem(&start, &key, &v, flags);
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
  struct start_val *v = bpf_map_lookup_elem(&start, &key);
  if (!v)
    return 0;
  __s64 delta = (__s64)(bpf_ktime_get_ns() - v->ts);
  if (delta >= 0) {
    __u64 value = targ_ms ? delta / 1000000 : delta / 1000;
    hist_add(targ_per_flags ? v->flags : targ_per_disk ? key.dev : 0, value);
    if (targ_extended) {
      __u32 zero = 0;
      struct ext_val *e = bpf_map_lookup_elem(&extension, &zero);
      if (e) {
        __sync_fetch_and_add(&e->total, delta);
        __sync_fetch_and_add(&e->count, 1);
      } else {
        struct ext_val first = {.total = delta, .count = 1};
        bpf_map_update_elem(&extension, &zero, &first, BPF_NOEXIST);
      }
    }
  }
  bpf_map_delete_elem(&start, &key);
  return 0;
}
