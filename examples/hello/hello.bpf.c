// hello: the smallest tracing program. Every openat(2) prints a line to the kernel's
// trace buffer (bpf_printk), which hello.ts reads back from trace_pipe. The kprobe
// variant does the same from do_sys_openat2 on kernels that have kprobes.
//
// Build: npm run build:bpf (clang-19 -g -O2 -target bpf, see scripts/build-bpf.sh)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// Only this process (thread group) when non-zero; hello.ts sets it with `--self`.
const volatile __u32 target_tgid = 0;

static __always_inline int say_hello(const char *via)
{
	char comm[16];
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (target_tgid && tgid != target_tgid)
		return 0;
	bpf_get_current_comm(comm, sizeof(comm));
	bpf_printk("hello from %s (pid %d) via %s", comm, tgid, via);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int hello(void *ctx)
{
	return say_hello("tracepoint");
}

SEC("kprobe/do_sys_openat2")
int hello_kprobe(void *ctx)
{
	return say_hello("kprobe");
}

char LICENSE[] SEC("license") = "GPL";
