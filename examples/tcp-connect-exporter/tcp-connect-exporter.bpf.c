// tcp-connect-exporter: counts TCP connections as they become established, by service
// port, address family and direction, in a hash map that tcp-connect-exporter.ts serves
// to Prometheus. The key's BTF names the labels: port, family, direction.
//
// Build: npm run build:bpf (clang-19 -g -O2 -target bpf -I include, see scripts/build-bpf.sh)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
// struct inet_sock_set_state_args (the trace event's record) and the TCP states.
#include <tsbpf/sock_events.h>

// Label values: the exporter prints enumerator names.
enum family { ipv4 = 2, ipv6 = 10 };
enum direction { outbound = 0, inbound = 1 };

struct conn_key {
	__u32 port;             // the server's port: remote for outbound, local for inbound
	enum family family;
	enum direction direction;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct conn_key);
	__type(value, __u64);
} tcp_connects SEC(".maps");

SEC("tracepoint/sock/inet_sock_set_state")
int count_established(struct inet_sock_set_state_args *ctx)
{
	struct conn_key key = {};
	__u64 one = 1, *count;
	// Both ports read up front: choosing the field in the branches below lets clang
	// compute ctx + offset first, a modified context pointer the verifier refuses.
	__u16 sport = ctx->sport, dport = ctx->dport;

	if (ctx->protocol != IPPROTO_TCP || ctx->newstate != TCP_ESTABLISHED)
		return 0;
	// SYN_SENT -> ESTABLISHED: our connect() completed; SYN_RECV -> ESTABLISHED: a
	// connection we accept (its socket is made in SYN_RECV).
	if (ctx->oldstate == TCP_SYN_SENT) {
		key.direction = outbound;
		key.port = dport;
	} else if (ctx->oldstate == TCP_SYN_RECV) {
		key.direction = inbound;
		key.port = sport;
	} else {
		return 0;
	}
	key.family = ctx->family;
	count = bpf_map_lookup_elem(&tcp_connects, &key);
	if (!count) {
		if (bpf_map_update_elem(&tcp_connects, &key, &one, BPF_NOEXIST) == 0)
			return 0;
		// Another CPU added the key first: count on its entry.
		count = bpf_map_lookup_elem(&tcp_connects, &key);
		if (!count)
			return 0;
	}
	__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
