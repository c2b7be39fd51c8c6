// gen-record: an XDP program that sends one `struct sample` per run through a ring
// buffer, filled from the packet (so each input gives a different record) with the C
// compiler doing the bitfield and sign conversions. test/gen-types-backends.test.ts
// runs it in the kernel (BPF_PROG_TEST_RUN) and in the VM and decodes both rings'
// records with the codec of `tsbpf gen types gen-record.bpf.o type sample`.
//
// Build: npm run build:bpf (clang-19 -g -O2 -target bpf, see scripts/build-bpf.sh)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum kind { K_OPEN = 1, K_CLOSE = 2, K_NEG = -3 };

struct flags {
	unsigned int a : 3, b : 5;
	int c : 4;
	unsigned long long d : 40;
	_Bool e : 1;
};

struct sample {
	__u64 ts;
	__s32 pid;
	__s8 delta;
	__s16 s16v;
	enum kind kind;
	char comm[16];
	struct flags fl;
	union {
		__u64 word;
		struct {
			__u32 lo, hi;
		};
	};
	__s32 grid[2][3];
	struct {
		__u16 port;
		__u8 proto;
	} addrs[2];
	_Bool ok;
};

typedef struct sample sample_t;

// Names `struct sample` (through its typedef) in the object's BTF: locals are not
// described.
const sample_t *unused_sample __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} records SEC(".maps");

SEC("xdp")
int emit_record(struct xdp_md *ctx)
{
	unsigned char *p = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	struct sample *r;

	if (p + 64 > end)
		return XDP_DROP;
	r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
	if (!r)
		return XDP_ABORTED;
	r->ts = *(__u64 *)p;
	r->pid = *(__s32 *)(p + 8);
	r->delta = (__s8)p[12];
	r->s16v = *(__s16 *)(p + 13);
	r->kind = (p[15] & 1) ? K_NEG : K_OPEN;
	__builtin_memcpy(r->comm, "tsbpf-record\0\0\0\0", 16);
	r->comm[12] = p[16] & 0x7f; // a character or the terminating NUL
	r->fl.a = p[17];
	r->fl.b = p[18];
	r->fl.c = (signed char)p[19];
	r->fl.d = *(__u64 *)(p + 20);
	r->fl.e = p[28] & 1;
	r->word = *(__u64 *)(p + 29);
	for (int i = 0; i < 6; i++)
		r->grid[i / 3][i % 3] = (__s32)(signed char)p[37 + i] * 1000;
	r->addrs[0].port = *(__u16 *)(p + 43);
	r->addrs[0].proto = p[45];
	r->addrs[1].port = *(__u16 *)(p + 46);
	r->addrs[1].proto = p[48];
	r->ok = p[49] > 127;
	bpf_ringbuf_submit(r, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
