/* Shared by tsbpf's TCP tools: the record of the sock:inet_sock_set_state tracepoint
 * (events/sock/inet_sock_set_state/format, stable since Linux 4.16; ports in host
 * order, addresses in network order) and the TCP states they compare with. */
#ifndef TSBPF_SOCK_BPF_H
#define TSBPF_SOCK_BPF_H

#include "trace.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

enum {
  TCP_ESTABLISHED = 1,
  TCP_SYN_SENT = 2,
  TCP_SYN_RECV = 3,
  TCP_FIN_WAIT1 = 4,
  TCP_CLOSE = 7,
  TCP_LAST_ACK = 9,
};

struct inet_sock_set_state_ctx {
  __u64 common;
  const void *skaddr;
  int oldstate;
  int newstate;
  __u16 sport;
  __u16 dport;
  __u16 family;
  __u16 protocol;
  __u8 saddr[4];
  __u8 daddr[4];
  __u8 saddr_v6[16];
  __u8 daddr_v6[16];
};

_Static_assert(__builtin_offsetof(struct inet_sock_set_state_ctx, saddr_v6) == 40, "saddr_v6");

/* Copies the tracepoint's addresses of `family` into 16-byte buffers (IPv4 in the
 * first four bytes). */
static __always_inline void copy_addrs(const __u8 *s4, const __u8 *d4, const __u8 *s6,
                                       const __u8 *d6, __u16 family, __u8 *saddr,
                                       __u8 *daddr) {
  if (family == AF_INET) {
    __builtin_memcpy(saddr, s4, 4);
    __builtin_memcpy(daddr, d4, 4);
  } else {
    __builtin_memcpy(saddr, s6, 16);
    __builtin_memcpy(daddr, d6, 16);
  }
}

/* 0 for any family, else AF_INET or AF_INET6 (-4, -6). */
const volatile __u16 targ_family = 0;

#endif
