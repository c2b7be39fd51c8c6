/* A CO-RE program against a generated vmlinux.h (tsbpf's dumpC of the kernel's BTF).
 * Built by test/btf-vmlinux-h.test.ts into a temporary directory; the committed
 * core.bpf.o is built by ./build.sh (vmlinux.h generated, then llvm-strip-19 -g).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct event {
	__u32 pid;
	__u32 ppid;
	__u64 cgroup_id;
	__u32 task_size;
	__u32 ringbuf_type;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

const volatile __u32 target_pid = 0;

static __always_inline __u32 parent_pid(struct task_struct *task)
{
	return BPF_CORE_READ(task, real_parent, tgid);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *e;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (target_pid && pid != target_pid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	e->ppid = parent_pid(task);
	e->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	if (bpf_core_field_exists(task->pid))
		e->pid = BPF_CORE_READ(task, pid);
	e->task_size = 0;
	if (bpf_core_type_exists(struct task_struct))
		e->task_size = bpf_core_type_size(struct task_struct);
	e->ringbuf_type = 0;
	if (bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF))
		e->ringbuf_type = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
