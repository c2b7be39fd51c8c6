// A global function with hidden visibility, as libbpf's usdt.bpf.h declares
// bpf_usdt_arg: libbpf marks it static in the BTF it loads, so the verifier checks it
// in its caller's context. Verified as a global function it is refused: `*p` reads a
// pointer argument that may be NULL ("R1 invalid mem access 'mem_or_null'").
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((visibility("hidden"))) __attribute__((noinline)) int add_one(int *p)
{
	return *p + 1;
}

SEC("xdp")
int hidden_caller(struct xdp_md *ctx)
{
	int x = 41;

	return add_one(&x) == 42 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
