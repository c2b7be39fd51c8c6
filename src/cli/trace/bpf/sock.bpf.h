/* Shared by tsbpf's TCP tools: the record of the sock:inet_sock_set_state tracepoint
 * and the TCP states they compare with come from the public <tsbpf/sock_events.h>
 * (include/, which the examples use too); the address copy and the -4/-6 filter are
 * the tools' own. */
#ifndef TSBPF_SOCK_BPF_H
#define TSBPF_SOCK_BPF_H

#include "trace.bpf.h"
#include <tsbpf/sock_events.h>

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
