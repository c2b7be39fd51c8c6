// Maps whose keys and values exercise BTF value printing (`map dump` through BTF,
// `gen types`): integers of every width and sign, chars and char arrays, nested
// structs, anonymous unions, enums, bitfields, pointers, 128-bit integers, per-CPU
// values and global data in .data, .bss, .rodata and a named .data section.
// Built with: clang-19 -g -O2 -target bpf -I/usr/include/x86_64-linux-gnu
//   -fdebug-prefix-map=$PWD=. -c btf-values.bpf.c -o btf-values.bpf.o
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef unsigned int u32;
typedef unsigned long long u64;

enum color { RED, GREEN = 5, BLUE = -1 };
enum big { BIG_A = 0x100000000ULL, BIG_B = 0x7fffffffffffffffULL };

struct point {
  int x;
  int y;
};

struct flow_key {
  u32 saddr;
  u32 daddr;
  unsigned short sport;
  unsigned short dport;
  unsigned char proto;
  char pad[3];
};

struct rich {
  char name[16];
  unsigned char raw[4];
  signed char sc;
  short s16;
  unsigned short u16;
  int s32;
  u32 u32v;
  long long s64;
  u64 u64v;
  struct point pts[2];
  union {
    u64 word;
    struct {
      u32 lo;
      u32 hi;
    };
  };
  enum color col;
  enum big bg;
  unsigned int a : 3;
  unsigned int b : 5;
  int c : 4;
  unsigned long long d : 40;
  void *ptr;
  unsigned __int128 wide;
  int matrix[2][3];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, struct flow_key);
  __type(value, struct rich);
  __uint(max_entries, 16);
} flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __type(key, u32);
  __type(value, struct point);
  __uint(max_entries, 2);
} percpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, u32);
  __type(value, u64);
  __uint(max_entries, 3);
} counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, enum color);
  __type(value, char[8]);
  __uint(max_entries, 4);
} names SEC(".maps");

u64 packets = 7;
int temps[3] = {-1, 0, 1};
struct point origin;
const volatile u32 limit = 100;
const volatile char greeting[8] = "hello";
u32 tagged SEC(".data.tagged") = 0xabcdef;

SEC("xdp")
int count(struct xdp_md *ctx) {
  u32 k = 0;
  u64 *v = bpf_map_lookup_elem(&counters, &k);
  if (v)
    __sync_fetch_and_add(v, 1);
  struct point *p = bpf_map_lookup_elem(&percpu, &k);
  if (p)
    p->x += 1;
  struct flow_key fk = {};
  struct rich *r = bpf_map_lookup_elem(&flows, &fk);
  if (r)
    r->s32 += limit + greeting[0];
  enum color c = RED;
  char *n = bpf_map_lookup_elem(&names, &c);
  if (n)
    n[0] = 'x';
  packets++;
  temps[1] = origin.x + tagged;
  origin.y = 2;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
