// trace-open-ringbuf: trace-open's events through a BPF_MAP_TYPE_RINGBUF (Linux >= 5.8):
// one ring shared by every CPU, records reserved in place and submitted, so events
// arrive in order and nothing is copied twice.
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

// The syscalls:sys_enter_openat trace event, as its tracefs format file lays it out.
struct sys_enter_openat_args {
	__u64 common;
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
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(struct sys_enter_openat_args *ctx)
{
	struct event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	__u64 id = bpf_get_current_pid_tgid();

	if (!ev)
		return 0; // the ring is full: the event is dropped
	ev->ts_ns = bpf_ktime_get_ns();
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_probe_read_user_str(ev->file, sizeof(ev->file), ctx->filename);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
