// Programs on the hooks this project's machine lacks and Debian's 6.1 and 6.12 kernels
// have (test/kernel-tracing-hooks.test.ts): each counts, in its own slot of `counts`,
// the events of one process (target_tgid, set at load). No vmlinux.h: programs take
// their context as a plain pointer and read nothing from it, so the object builds and
// loads the same on every kernel.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

static __always_inline void count(__u32 slot) {
  __u64 *c = bpf_map_lookup_elem(&counts, &slot);
  if (c)
    __sync_fetch_and_add(c, 1);
}

static __always_inline void hit(__u32 slot) {
  if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
    count(slot);
}

SEC("kprobe/do_sys_openat2")
int kprobe_open(void *ctx) { hit(0); return 0; }

SEC("kretprobe/do_sys_openat2")
int kretprobe_open(void *ctx) { hit(1); return 0; }

SEC("ksyscall/openat")
int ksyscall_openat(void *ctx) { hit(2); return 0; }

SEC("kprobe.multi/do_sys_openat2")
int kprobe_multi_open(void *ctx) { hit(3); return 0; }

SEC("fentry/do_sys_openat2")
int fentry_open(void *ctx) { hit(4); return 0; }

SEC("fexit/do_sys_openat2")
int fexit_open(void *ctx) { hit(5); return 0; }

SEC("lsm/file_open")
int lsm_file_open(void *ctx) { hit(6); return 0; }

SEC("tp_btf/sys_enter")
int tp_btf_sys_enter(void *ctx) { hit(7); return 0; }

// Returning 0 keeps security_file_open's own result: the open goes on as it would.
SEC("fmod_ret/security_file_open")
int fmod_ret_file_open(void *ctx) { hit(8); return 0; }

// A function of the veth module: its target is in the module's split BTF. `ip link set
// up` calls it, in the ip process: every call counts.
SEC("fentry/veth_open")
int fentry_veth_open(void *ctx) { count(9); return 0; }

SEC("kretsyscall/openat")
int kretsyscall_openat(void *ctx) { hit(10); return 0; }
