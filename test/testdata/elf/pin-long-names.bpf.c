// Two maps pinned by name whose first 15 characters are the same: libbpf pins each
// under its full name, so they must not meet at one pin of the kernel's short name.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cilium_ratelimit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cilium_ratelimit_metrics SEC(".maps");

SEC("xdp")
int count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *hits = bpf_map_lookup_elem(&cilium_ratelimit, &key);
	__u32 *metric = bpf_map_lookup_elem(&cilium_ratelimit_metrics, &key);

	if (hits)
		__sync_fetch_and_add(hits, 1);
	if (metric)
		__sync_fetch_and_add(metric, 2);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
