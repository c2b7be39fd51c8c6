// Map-in-map with inner definitions and initial values, and a program array
// with initial slots.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u32);
  __uint(max_entries, 1);
};

struct inner inner_a SEC(".maps");
struct inner inner_b SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner);
} outer SEC(".maps") = {
  .values = { [0] = &inner_a, [2] = &inner_b },
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
  __uint(max_entries, 8);
  __type(key, __u64);
  __array(values, struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 32);
  });
} outer_hash SEC(".maps");

int tail_a(struct __sk_buff *skb);
int tail_b(struct __sk_buff *skb);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 3);
  __uint(key_size, sizeof(__u32));
  __array(values, int(struct __sk_buff *));
} jumps SEC(".maps") = {
  .values = { [1] = (void *)&tail_a, [2] = (void *)&tail_b },
};

SEC("tc")
int tail_a(struct __sk_buff *skb) { return 1; }

SEC("tc")
int tail_b(struct __sk_buff *skb) { return 2; }

SEC("tc")
int entry(struct __sk_buff *skb) {
  __u32 k = 0;
  void *m = bpf_map_lookup_elem(&outer, &k);
  if (m) {
    __u32 *v = bpf_map_lookup_elem(m, &k);
    if (v)
      return *v;
  }
  bpf_tail_call(skb, &jumps, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
