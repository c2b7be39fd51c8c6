/* Shared by tsbpf's histogram tools (biolatency, runqlat, cpudist): the log2 slot of a
 * value, as libbpf-tools computes it (floor(log2(v)), 0 and 1 both in slot 0; the
 * "libbpf" convention of src/hist), and a map of counts keyed by a label (disk, pid or
 * tid; 0 when the tool prints one histogram) and a slot, which src/hist reads with the
 * "slot-per-entry" layout. */
#ifndef TSBPF_HIST_BPF_H
#define TSBPF_HIST_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Slots kept: slot 26 holds [2^26, 2^27) (67 s in usecs); larger values go there too. */
#define MAX_SLOTS 27

struct hist_key {
  __u32 label;
  __u32 slot;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, struct hist_key);
  __type(value, __u64);
} hists SEC(".maps");

static __always_inline __u32 log2_slot(__u64 v) {
  __u32 r = 0;
  /* Binary search over the bit positions, unrolled: no loop for the verifier. */
  if (v >> 32) { v >>= 32; r += 32; }
  if (v >> 16) { v >>= 16; r += 16; }
  if (v >> 8) { v >>= 8; r += 8; }
  if (v >> 4) { v >>= 4; r += 4; }
  if (v >> 2) { v >>= 2; r += 2; }
  if (v >> 1) r += 1;
  return r < MAX_SLOTS ? r : MAX_SLOTS - 1;
}

/* Counts `value` (already in the tool's unit) in the histogram of `label`. */
static __always_inline void hist_add(__u32 label, __u64 value) {
  struct hist_key key = {.label = label, .slot = log2_slot(value)};
  __u64 one = 1, *count = bpf_map_lookup_elem(&hists, &key);
  if (count)
    __sync_fetch_and_add(count, 1);
  else
    bpf_map_update_elem(&hists, &key, &one, BPF_NOEXIST);
}

char LICENSE[] SEC("license") = "GPL";

#endif
