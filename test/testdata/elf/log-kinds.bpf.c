// Every kind of tsbpf_log.h argument, in an XDP program that BPF_PROG_TEST_RUN and the
// VM both run on the same packet, so their log lines can be compared: integers of each
// width and sign (8 arguments, the most a call takes), a MAC and an IPv4 address from
// the packet, strings from the stack (cut at TSBPF_LOG_STR_MAX) and from .rodata, a
// char, a call without arguments. test/log-vm.test.ts and test/kernel-log.test.ts.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#define TSBPF_LOG_STR_MAX 16
#include <tsbpf/tsbpf_log.h>

SEC("xdp")
int log_kinds(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	char name[] = "a string longer than sixteen bytes";
	__u8 mac[6];
	__u32 saddr;

	if (data + 34 > end) {
		log_error(ctx, "short packet: %u bytes", (__u32)(end - data));
		return XDP_PASS;
	}
	__builtin_memcpy(mac, data + 6, 6);       // Ethernet source
	__builtin_memcpy(&saddr, data + 26, 4);   // IPv4 source, network byte order
	log_info(ctx, "from %pM %pI4", TSBPF_MAC(mac), saddr);
	log_debug(ctx, "%hhu %hhd %hu %hd %u %d %llu %lld", (__u8)200, (__s8)-5, (__u16)60000,
		  (__s16)-300, 4000000000u, -7, 18446744073709551615ull, -9ll);
	log_trace(ctx, "[%s] [%c] [%5.2s] [%-4x]", name, 'x', "hi!", (__u8)0xab);
	log_warn(ctx, "no arguments, 100%%");
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
