// SEC() forms newer than the Linux 6.18 uapi tsbpf is generated from: libbpf knows them
// (attach types BPF_TRACE_FENTRY_MULTI, BPF_TRACE_FSESSION), this kernel does not.
// Loading them must fail with a NotSupportedError that names the form.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("fentry.multi/vfs_*")
int multi_entry(void *ctx) { return 0; }

SEC("fsession/do_sys_openat2")
int session(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
