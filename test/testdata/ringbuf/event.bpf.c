/* Test program of test/kernel-ringbuf-decode.test.ts: one struct event per run. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 1, GREEN = 2, BLUE = 40 };
struct inner { unsigned short a; signed char b; };
struct event {
  unsigned int pid;
  char comm[16];
  struct inner in;
  enum color c;
  unsigned long long ts;
  int arr[3];
};

/* BTF describes globals, not locals: this makes struct event part of the object's BTF */
const struct event *unused_event __attribute__((unused));

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int emit(struct xdp_md *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return XDP_PASS;
  e->pid = 4242;
  __builtin_memcpy(e->comm, "tsbpf\0\0\0\0\0\0\0\0\0\0\0", 16);
  e->in.a = 65535;
  e->in.b = -5;
  e->c = BLUE;
  e->ts = 0x123456789abcdefULL;
  e->arr[0] = -1; e->arr[1] = 0; e->arr[2] = 7;
  bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
