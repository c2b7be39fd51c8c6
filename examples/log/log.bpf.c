// log: logging from a BPF program with tsbpf_log.h. Every openat(2) of the process
// named by `target_pid` (all processes when 0) logs a line per level; the userspace side
// (log.ts, or BpfLogger/VmLogger) formats the records with the format strings the
// object keeps in its .rodata.tsbpf_log section.
//
// Build: npm run build:bpf (clang-19 -g -O2 -target bpf -I include, see scripts/build-bpf.sh)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <tsbpf/tsbpf_log.h>

#define O_CREAT 0100

// The syscalls:sys_enter_openat trace event, as its tracefs format file lays it out.
struct sys_enter_openat_args {
	__u64 common;
	__s64 syscall_nr;
	__u64 dfd;
	const char *filename;
	__u64 flags;
	__u64 mode;
};

// Only this process (thread group id); 0: every process.
const volatile __u32 target_pid = 0;

static __always_inline void log_flags(void *ctx, __u64 flags, __u64 mode)
{
	if (flags & O_CREAT)
		log_warn(ctx, "creating, mode %04o", mode);
	log_trace(ctx, "flags=%#x", flags);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int log_openat(struct sys_enter_openat_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	char comm[16];

	if (target_pid && pid != target_pid)
		return 0;
	bpf_get_current_comm(comm, sizeof(comm));
	log_info(ctx, "pid=%d comm=%s", pid, comm);
	// The event stores the int dfd zero-extended: AT_FDCWD is 0xffffff9c.
	log_debug(ctx, "openat(%d, \"%s\")", (__s32)ctx->dfd, TSBPF_USTR(ctx->filename));
	log_flags(ctx, ctx->flags, ctx->mode);
	if ((__s32)ctx->dfd < -100)
		log_error(ctx, "bad dfd %d", (__s32)ctx->dfd);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
