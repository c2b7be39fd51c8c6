/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sock_events.h: the record of the sock:inet_sock_set_state trace event, for BPF
 * programs that attach to it as a plain tracepoint (SEC("tracepoint/sock/inet_sock_set_state")).
 *
 *   #include <linux/bpf.h>
 *   #include <bpf/bpf_helpers.h>
 *   #include <tsbpf/sock_events.h>   // clang ... -I node_modules/tsbpf/include
 *
 *   SEC("tracepoint/sock/inet_sock_set_state")
 *   int on_state(struct inet_sock_set_state_args *ctx) { ... ctx->newstate ... }
 *
 * The layout is the event's tracefs format file (events/sock/inet_sock_set_state/format),
 * a stable ABI since Linux 4.16: ports in host byte order, addresses in network byte
 * order, the IPv6 ones filled for AF_INET6 sockets. The TCP states and address families
 * it compares with are defined here too, unless vmlinux.h or the libc headers did first.
 */
#ifndef TSBPF_SOCK_EVENTS_H
#define TSBPF_SOCK_EVENTS_H

#include <linux/types.h>

/* One inet_sock_set_state event. */
struct inet_sock_set_state_args {
	__u64 common;           /* common_type, common_flags, common_preempt_count, common_pid */
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

/* The format file's offsets (test/sock-events-header.test.ts compares them with tracefs). */
_Static_assert(__builtin_offsetof(struct inet_sock_set_state_args, newstate) == 20, "newstate");
_Static_assert(__builtin_offsetof(struct inet_sock_set_state_args, sport) == 24, "sport");
_Static_assert(__builtin_offsetof(struct inet_sock_set_state_args, family) == 28, "family");
_Static_assert(__builtin_offsetof(struct inet_sock_set_state_args, saddr_v6) == 40, "saddr_v6");
_Static_assert(__builtin_offsetof(struct inet_sock_set_state_args, daddr_v6) == 56, "daddr_v6");

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* vmlinux.h has these as enumerators (include/net/tcp_states.h, netinet/in.h). */
#ifndef __VMLINUX_H__
#ifndef IPPROTO_TCP
#define IPPROTO_TCP 6
#endif
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_FIN_WAIT1 4
#define TCP_FIN_WAIT2 5
#define TCP_TIME_WAIT 6
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8
#define TCP_LAST_ACK 9
#define TCP_LISTEN 10
#define TCP_CLOSING 11
#define TCP_NEW_SYN_RECV 12
#endif

#endif
