// cgroup-device: a cgroup device program (the cgroup v2 successor of the devices
// controller's allow/deny lists). Opening character device deny_major:deny_minor
// (/dev/null, 1:3, by default) for reading is refused (return 0: open fails with EPERM)
// for the processes of the cgroup and counted; every other access is allowed and
// counted. Attach it with tsbpf's attachCgroup or `tsbpf cgroup attach CGROUP device
// pinned PIN`: see cgroup-device.ts.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 deny_major = 1; /* .rodata: the `constants` load option */
const volatile __u32 deny_minor = 3;
__u64 denied; /* .bss */
__u64 allowed;

SEC("cgroup/dev")
int deny_read(struct bpf_cgroup_dev_ctx *ctx) {
  __u32 type = ctx->access_type & 0xffff;
  __u32 access = ctx->access_type >> 16;
  if (type == BPF_DEVCG_DEV_CHAR && ctx->major == deny_major && ctx->minor == deny_minor &&
      (access & BPF_DEVCG_ACC_READ)) {
    __sync_fetch_and_add(&denied, 1);
    return 0;
  }
  __sync_fetch_and_add(&allowed, 1);
  return 1;
}

char LICENSE[] SEC("license") = "GPL";
