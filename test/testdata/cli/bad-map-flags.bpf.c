// A hash map with a flag (0x80000) the kernel refuses for hash maps: the object parses,
// and the load fails when the map is created.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
	__uint(map_flags, 0x80000);
} bad SEC(".maps");

SEC("xdp")
int lookup_bad(struct xdp_md *ctx)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&bad, &k) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
