// trace-open: every openat(2) as an event (time, pid, comm, file name) sent through a
// BPF_MAP_TYPE_PERF_EVENT_ARRAY to trace-open.ts, which prints them.
//
// Build: npm run build:bpf (clang-19 -g -O2 -target bpf, see scripts/build-bpf.sh)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define FILE_LEN 256

struct event {
	__u64 ts_ns;            // bpf_ktime_get_ns()
	__u32 pid;              // thread group id (what ps calls PID)
	__u32 tid;              // thread id
	char comm[16];
	char file[FILE_LEN];
};

// The syscalls:sys_enter_openat trace event, as its tracefs format file lays it out
// (syscall trace events are not in the kernel's BTF; this layout is stable ABI).
struct sys_enter_openat_args {
	__u64 common;           // common_type, common_flags, common_preempt_count, common_pid
	__s64 syscall_nr;
	__u64 dfd;
	const char *filename;
	__u64 flags;
	__u64 mode;
};

// Names `struct event` in the object's BTF (a type only local variables use is left
// out), so the TypeScript side decodes records by the same definition.
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(struct sys_enter_openat_args *ctx)
{
	struct event ev = {};
	__u64 id = bpf_get_current_pid_tgid();

	ev.ts_ns = bpf_ktime_get_ns();
	ev.pid = id >> 32;
	ev.tid = (__u32)id;
	bpf_get_current_comm(ev.comm, sizeof(ev.comm));
	bpf_probe_read_user_str(ev.file, sizeof(ev.file), ctx->filename);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &ev, sizeof(ev));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
