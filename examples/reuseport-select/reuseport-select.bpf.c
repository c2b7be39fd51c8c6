// reuseport-select: chooses which socket of a SO_REUSEPORT group takes each new TCP
// connection (or UDP datagram): the socket at index `chosen` of the `group` socket
// array, which user space fills with the group's sockets and can change at any time
// (how a server drains one worker's socket before restarting it). When that slot is
// empty the kernel's own hash picks, as if no program were attached. Attach it to any
// socket of the group with tsbpf's attachReuseport (SO_ATTACH_REUSEPORT_EBPF): see
// test/kernel-net-socket.test.ts.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} group SEC(".maps");

__u32 chosen;  /* .bss: the index of the socket to pick */
__u64 picked;  /* .bss: selections the program made */
__u64 missed;  /* .bss: selections left to the kernel (empty slot) */

SEC("sk_reuseport")
int select_socket(struct sk_reuseport_md *md) {
  __u32 key = chosen;
  if (bpf_sk_select_reuseport(md, &group, &key, 0) == 0)
    __sync_fetch_and_add(&picked, 1);
  else
    __sync_fetch_and_add(&missed, 1);
  return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
