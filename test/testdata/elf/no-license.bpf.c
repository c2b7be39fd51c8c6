// An object without a "license" section: the kernel, libbpf and cilium/ebpf load it
// (as non-GPL); only GPL-only helpers are then refused, by the verifier.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int no_license(struct xdp_md *ctx)
{
	return bpf_get_prandom_u32() >= 0 ? XDP_PASS : XDP_DROP;
}
