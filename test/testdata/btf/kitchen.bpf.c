/* BTF kitchen sink: a small object whose BTF exercises most kinds and C-dump rules.
 * Built by ./build.sh: clang-19 -g -O2 -target bpf -fdebug-prefix-map=$PWD=. -c kitchen.bpf.c
 * -o kitchen.bpf.o && llvm-strip-19 -g kitchen.bpf.o */
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;

struct list_head { struct list_head *next, *prev; };
struct opaque;
union un { int i; float f; char c[3]; };

enum color { RED, GREEN = 5, BLUE = -1 };
enum big { BIG_A = 0x100000000ULL, BIG_B = 0xffffffffffffffffULL };
enum sbig { SB_A = -0x100000000LL, SB_B = 1 };
enum small : unsigned char { S1 = 1, S2 = 200 };

typedef int (*handler_t)(void *ctx, int, ...);
typedef void (*arr_fn_t[4])(int);

struct __attribute__((packed)) packed_s { char a; int b; short c; };
struct aligned_s { int a; long long b __attribute__((aligned(16))); } __attribute__((aligned(32)));

struct bits {
  unsigned int a : 3;
  unsigned int b : 5;
  int c : 1;
  unsigned long long d : 40;
  u32 e;
  unsigned int : 0;
  char f;
};

struct nested {
  struct { int x; int y; } pt;
  union { u64 raw; struct { u32 lo, hi; }; };
  struct list_head lh;
  struct opaque *op;
  const volatile int *cvp;
  int * const restrict rp;
  handler_t h;
  void (*cb[2])(struct nested *, enum color);
  int (*(*fpp)(int))[3];
  char name[16];
  int matrix[2][3];
  struct bits bf;
  union un u;
  struct packed_s ps;
  struct aligned_s as;
  enum big eb;
  enum sbig esb;
  enum small es;
  _Bool flag;
  __int128 wide;
  double dbl;
  long double ldbl;
  int __attribute__((btf_type_tag("user"))) *tagged;
  int flex[];
};

struct cyc_b;
struct cyc_a { struct cyc_b *b; int v; };
struct cyc_b {
  struct cyc_a a;
  struct cyc_a *pa;
  /* qualifiers under pointers, in the orders clang writes them */
  volatile const char *const *vcpp;
  const volatile u32 **cvpp;
  const void *cvoid;
  volatile struct list_head *vlh;
  const enum color *ce;
};

int counter __attribute__((section(".data"))) = 1;
const volatile int cfg = 3;
struct nested global_n __attribute__((section(".bss")));
struct cyc_b global_c;
int __attribute__((btf_decl_tag("tagged_var"))) tv;

struct {
  int (*type)[2];
  int (*max_entries)[16];
  u32 *key;
  struct nested *value;
} m __attribute__((section(".maps")));

static __attribute__((noinline)) int helper(struct nested *n, int k) {
  return n->matrix[k & 1][1] + n->bf.b;
}

extern int bpf_extern_func(int) __attribute__((weak, section(".ksyms")));

__attribute__((section("xdp"), used))
int prog(struct nested *ctx __attribute__((btf_decl_tag("ctx_tag")))) {
  int r = helper(ctx, counter) + cfg;
  r += __builtin_preserve_field_info(ctx->bf.b, 0);
  r += __builtin_preserve_field_info(ctx->bf.d, 1);
  r += __builtin_preserve_field_info(ctx->eb, 2);
  r += __builtin_preserve_type_info(*ctx, 1);
  r += __builtin_preserve_enum_value(*(typeof(enum color) *)GREEN, 1);
  r += ((struct cyc_b *)__builtin_preserve_access_index(&global_c))->a.v;
  return r;
}

__attribute__((section("tc"), used))
int prog2(void *ctx) { return helper(ctx, 2); }

char _license[] __attribute__((section("license"), used)) = "GPL";
