// open-load-attach: three programs on three kinds of hook, counting into one array map,
// for open-load-attach.ts to walk as libbpf's bpf_object__open_file, bpf_object__load
// and bpf_program__attach do: specs first, then the kernel, then each hook.
//
// Build: npm run build:bpf (clang-19 -g -O2 -target bpf, see scripts/build-bpf.sh)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum counter {
	COUNT_OPENAT,   // tracepoint syscalls:sys_enter_openat
	COUNT_CLOSE,    // tracepoint syscalls:sys_enter_close
	COUNT_SYSCALLS, // raw tracepoint sys_enter: every system call
	NR_COUNTERS,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, NR_COUNTERS);
} counts SEC(".maps");

// Counting only this process when non-zero (a .rodata constant set before loading).
const volatile __u32 target_tgid = 0;

// Events seen by every program together (.bss).
__u64 total_events = 0;

static __always_inline int count(__u32 which)
{
	__u64 *value;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	value = bpf_map_lookup_elem(&counts, &which);
	if (value)
		__sync_fetch_and_add(value, 1);
	__sync_fetch_and_add(&total_events, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int count_openat(void *ctx)
{
	return count(COUNT_OPENAT);
}

SEC("tp/syscalls/sys_enter_close")
int count_close(void *ctx)
{
	return count(COUNT_CLOSE);
}

SEC("raw_tp/sys_enter")
int count_syscalls(void *ctx)
{
	return count(COUNT_SYSCALLS);
}

char LICENSE[] SEC("license") = "GPL";
