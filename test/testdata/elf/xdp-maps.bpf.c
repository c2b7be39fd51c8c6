// XDP programs with BTF-defined hash and array maps, global data in .data,
// .rodata, .bss and named variants, subprograms in .text, two programs in one
// section, a bpf_loop callback (function address) and a pinned map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1024);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} counts SEC(".maps");

struct pair {
  __u64 packets;
  __u64 bytes;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(struct pair));
  __uint(max_entries, 4);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
  __uint(numa_node, 0);
} stats SEC(".maps");

__u64 packets_seen = 7;             /* .data */
const volatile __u32 drop_port = 53; /* .rodata */
__u32 last_len;                      /* .bss */
__u64 tagged SEC(".data.tagged") = 0x1122334455667788ULL;
const volatile char banner[8] SEC(".rodata.banner") = "tsbpf";

static __attribute__((noinline)) __u32 packet_len(struct xdp_md *ctx) {
  return ctx->data_end - ctx->data;
}

__attribute__((noinline)) int count_key(__u32 key) {
  __u64 one = 1, *v = bpf_map_lookup_elem(&counts, &key);
  if (v)
    __sync_fetch_and_add(v, 1);
  else
    bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
  return 0;
}

static long loop_cb(__u32 i, void *ctx) {
  last_len += i;
  return 0;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx) {
  __u32 len = packet_len(ctx);
  __u32 k = 0;
  struct pair *p = bpf_map_lookup_elem(&stats, &k);
  if (p) {
    p->packets++;
    p->bytes += len;
  }
  packets_seen++;
  last_len = len;
  count_key(len & 0xff);
  return len == drop_port ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx) {
  bpf_loop(4, loop_cb, 0, 0);
  tagged++;
  return banner[0] == 't' ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp.frags")
int xdp_frags_prog(struct xdp_md *ctx) {
  return count_key(packet_len(ctx));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
