// core-task: CO-RE (compile once, run everywhere). At every exec the program reads the
// new task's parent and cgroup straight from kernel structures — task->real_parent->tgid
// and task->cgroups->dfl_cgrp->kn->id — with BPF_CORE_READ, and sends them through a
// ring buffer. The structures below are not the kernel's: they name only the fields
// used, and preserve_access_index makes clang record each access as a CO-RE
// relocation, which the loader resolves against the running kernel's BTF
// (/sys/kernel/btf/vmlinux). No vmlinux.h, no kernel headers.
//
// Build: npm run build:bpf (clang-19 -g -O2 -target bpf, see scripts/build-bpf.sh)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct css_set {
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct css_set *cgroups;
} __attribute__((preserve_access_index));

// The sched:sched_process_exec event, which the kernel's BTF describes too: its
// fields are relocated like the task's.
struct trace_entry {
	unsigned short type;
} __attribute__((preserve_access_index));

struct trace_event_raw_sched_process_exec {
	struct trace_entry ent;
	unsigned int __data_loc_filename;
	int pid;
	int old_pid;
} __attribute__((preserve_access_index));

struct event {
	__u32 pid;
	__u32 ppid;
	__u64 cgroup_id;        // task->cgroups->dfl_cgrp->kn->id (CO-RE)
	__u64 helper_cgroup_id; // bpf_get_current_cgroup_id(), for comparison
	__u32 uid;
	char comm[16];
	char file[128];
};

// Names `struct event` in the object's BTF (a type only local variables use is left
// out), so the TypeScript side decodes records by the same definition.
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int task_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	unsigned int loc;

	if (!ev)
		return 0;
	ev->pid = BPF_CORE_READ(task, tgid);
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	ev->helper_cgroup_id = bpf_get_current_cgroup_id();
	ev->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	// __data_loc: the low 16 bits are the string's offset in the event, the high 16 its length.
	loc = BPF_CORE_READ(ctx, __data_loc_filename);
	bpf_probe_read_kernel_str(ev->file, sizeof(ev->file), (void *)ctx + (loc & 0xffff));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
