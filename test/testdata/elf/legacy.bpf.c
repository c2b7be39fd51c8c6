// Legacy `maps` section (struct bpf_map_def), a socket filter, a tracepoint
// and the `version` section.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
  .type = BPF_MAP_TYPE_HASH,
  .key_size = 4,
  .value_size = 8,
  .max_entries = 16,
};

struct bpf_map_def SEC("maps") legacy_array = {
  .type = BPF_MAP_TYPE_ARRAY,
  .key_size = 4,
  .value_size = 4,
  .max_entries = 2,
  .map_flags = 0,
};

SEC("socket")
int sock_filter(struct __sk_buff *skb) {
  __u32 k = skb->protocol;
  __u64 *v = bpf_map_lookup_elem(&legacy_hash, &k);
  if (v)
    *v += 1;
  return skb->len;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(void *ctx) {
  __u32 k = 0;
  __u32 *v = bpf_map_lookup_elem(&legacy_array, &k);
  if (v)
    *v += 1;
  return 0;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x061200;
