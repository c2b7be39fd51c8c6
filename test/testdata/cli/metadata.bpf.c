// bpf_metadata_* variables in .rodata: libbpf binds .rodata to every program and
// bpftool prints them under "metadata:" in prog show; meta_other reads no variable.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
volatile const char bpf_metadata_name[] SEC(".rodata") = "tsbpf-meta";
volatile const int bpf_metadata_version SEC(".rodata") = 3;
volatile const int not_metadata SEC(".rodata") = 7;
SEC("xdp") int meta_prog(struct xdp_md *ctx) { return not_metadata == 7 ? XDP_PASS : XDP_DROP; }
SEC("xdp") int meta_other(struct xdp_md *ctx) { return XDP_DROP; }
char LICENSE[] SEC("license") = "GPL";
