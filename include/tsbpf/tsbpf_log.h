/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsbpf_log.h: logging from BPF programs, formatted in userspace.
 *
 *   #include <linux/bpf.h>          // or "vmlinux.h"
 *   #include <bpf/bpf_helpers.h>
 *   #include <tsbpf/tsbpf_log.h>    // clang ... -I node_modules/tsbpf/include
 *
 *   log_info(ctx, "pid=%d comm=%s", pid, comm);
 *   log_warn(ctx, "open of %s failed: %d", TSBPF_USTR(ctx->filename), err);
 *
 * Each call writes one small record to the ring buffer map TSBPF_LOG: the call site's
 * id, its level and the raw argument values (integers as 8 bytes, strings copied with
 * a bounded length). The format string never travels: it is stored, with the level, the
 * argument types and the calling function's name, in the object's ".rodata.tsbpf_log"
 * section, and the reader (BpfLogger in tsbpf/kernel, VmLogger in tsbpf/vm) formats
 * records from it. No trace_pipe, no bpf_trace_printk.
 *
 * Formats are printf-style: %d %i %u %x %X %o %c %s %p %%, with flags "-0+ ", a width
 * and length modifiers (hh h l ll z, accepted and ignored: the argument's C type, recorded
 * at compile time, decides its width and sign), plus %pI4 (an IPv4 address held in a
 * 32-bit integer in network byte order, as iphdr.saddr) and %pM (a MAC address passed as
 * TSBPF_MAC(ptr)). The format must be a string literal.
 *
 * Arguments (at most TSBPF_LOG_MAX_ARGS = 8), by C type:
 *   integers of any width, enums, _Bool   the value (signed types sign-extended)
 *   char * / char[] (BPF stack, map value, kernel memory)
 *                                         string, bpf_probe_read_kernel_str
 *   TSBPF_USTR(p)   (user memory)         string, bpf_probe_read_user_str
 *   TSBPF_MAC(p)    (6 bytes)             MAC address, bpf_probe_read_kernel
 *   other pointers                        the address (for %p)
 * Strings are cut at TSBPF_LOG_STR_MAX bytes (64 with the NUL; define it before the
 * include to change it).
 *
 * Levels: error 1, warn 2, info 3, debug 4, trace 5 (log_error .. log_trace, also named
 * tsbpf_log_error .. tsbpf_log_trace; define TSBPF_LOG_NO_SHORT_NAMES to keep only
 * those). A call is compiled in and runs only when its level is <= tsbpf_log_level, a
 * `const volatile` the loader sets (`constants: { tsbpf_log_level: 3 }`): the kernel's
 * verifier knows a frozen .rodata value and removes the disabled calls, so they cost
 * nothing. The default is every
 * level (TSBPF_LOG_DEFAULT_LEVEL). Records that find the ring full are dropped and
 * counted in tsbpf_log_dropped.
 *
 * Needs clang (C11 _Generic, GNU statement expressions, __COUNTER__), BTF (-g: the
 * reader finds the call sites through the section's BTF) and Linux >= 5.8 (ring
 * buffers), >= 5.5 (bpf_probe_read_{kernel,user}_str). Include it in one .c file per
 * object: it defines the map and two variables, and call-site ids are __COUNTER__
 * values of that file.
 */
#ifndef __TSBPF_LOG_H
#define __TSBPF_LOG_H

#ifndef TSBPF_LOG_RING_SIZE
#define TSBPF_LOG_RING_SIZE (256 * 1024)
#endif
#ifndef TSBPF_LOG_STR_MAX
#define TSBPF_LOG_STR_MAX 64
#endif

#define TSBPF_LOG_ERROR 1
#define TSBPF_LOG_WARN 2
#define TSBPF_LOG_INFO 3
#define TSBPF_LOG_DEBUG 4
#define TSBPF_LOG_TRACE 5

#ifndef TSBPF_LOG_DEFAULT_LEVEL
#define TSBPF_LOG_DEFAULT_LEVEL TSBPF_LOG_TRACE
#endif

#define TSBPF_LOG_MAX_ARGS 8
/* Record and site format version. */
#define TSBPF_LOG_VERSION 1
/* First word of every call-site descriptor in .rodata.tsbpf_log: "TSLG". */
#define TSBPF_LOG_SITE_MAGIC 0x474c5354

/* Argument type tags (record and site descriptor). */
#define TSBPF_LOG_ARG_U8 1
#define TSBPF_LOG_ARG_S8 2
#define TSBPF_LOG_ARG_U16 3
#define TSBPF_LOG_ARG_S16 4
#define TSBPF_LOG_ARG_U32 5
#define TSBPF_LOG_ARG_S32 6
#define TSBPF_LOG_ARG_U64 7
#define TSBPF_LOG_ARG_S64 8
#define TSBPF_LOG_ARG_KSTR 9
#define TSBPF_LOG_ARG_USTR 10
#define TSBPF_LOG_ARG_PTR 11
#define TSBPF_LOG_ARG_MAC 12

/* The ring buffer every log call writes to. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TSBPF_LOG_RING_SIZE);
} TSBPF_LOG SEC(".maps");

/* The most verbose level written; set at load time (.rodata, frozen). */
const volatile __u32 tsbpf_log_level = TSBPF_LOG_DEFAULT_LEVEL;
/* Records dropped because the ring was full (.bss). */
__u64 tsbpf_log_dropped = 0;

/* A string in user memory, read with bpf_probe_read_user_str. */
struct tsbpf_log_ustr {
	const void *ptr;
};
/* A 6-byte MAC address at ptr, read with bpf_probe_read_kernel. */
struct tsbpf_log_mac {
	const void *ptr;
};
#define TSBPF_USTR(p) ((struct tsbpf_log_ustr){ (const void *)(p) })
#define TSBPF_MAC(p) ((struct tsbpf_log_mac){ (const void *)(p) })

/*
 * A record: this header, then each argument at an 8-byte aligned offset in order —
 * integers and pointers as a __u64; a MAC as 6 bytes in an 8-byte slot; a string as
 * a __s32 (what bpf_probe_read_*_str returned: the length with the NUL, or -errno),
 * a __u32 (its buffer's size, TSBPF_LOG_STR_MAX) and the buffer, padded to 8 bytes.
 */
struct tsbpf_log_record {
	__u32 site;
	__u8 level;
	__u8 nargs;
	__u8 version;
	__u8 reserved;
	__u8 types[TSBPF_LOG_MAX_ARGS];
};

#define __TSBPF_LOG_STR_SLOT (8 + ((TSBPF_LOG_STR_MAX + 7) / 8) * 8)

#define __tsbpf_log_type(x)                                                          \
	_Generic((x),                                                                \
		_Bool: TSBPF_LOG_ARG_U8, char: TSBPF_LOG_ARG_S8,                      \
		signed char: TSBPF_LOG_ARG_S8, unsigned char: TSBPF_LOG_ARG_U8,      \
		short: TSBPF_LOG_ARG_S16, unsigned short: TSBPF_LOG_ARG_U16,          \
		int: TSBPF_LOG_ARG_S32, unsigned int: TSBPF_LOG_ARG_U32,              \
		long: TSBPF_LOG_ARG_S64, unsigned long: TSBPF_LOG_ARG_U64,            \
		long long: TSBPF_LOG_ARG_S64, unsigned long long: TSBPF_LOG_ARG_U64,  \
		char *: TSBPF_LOG_ARG_KSTR, const char *: TSBPF_LOG_ARG_KSTR,         \
		struct tsbpf_log_ustr: TSBPF_LOG_ARG_USTR,                            \
		struct tsbpf_log_mac: TSBPF_LOG_ARG_MAC, default: TSBPF_LOG_ARG_PTR)

#define __tsbpf_log_size(x)                                                          \
	_Generic((x),                                                                \
		char *: __TSBPF_LOG_STR_SLOT, const char *: __TSBPF_LOG_STR_SLOT,     \
		struct tsbpf_log_ustr: __TSBPF_LOG_STR_SLOT, default: 8)

static __always_inline void __tsbpf_log_put_num(void *rec, __u32 off, __u64 v)
{
	*(__u64 *)(rec + off) = v;
}

static __always_inline void __tsbpf_log_put_ptr(void *rec, __u32 off, const void *p)
{
	*(__u64 *)(rec + off) = (__u64)(unsigned long)p;
}

static __always_inline void __tsbpf_log_put_kstr(void *rec, __u32 off, const char *s)
{
	__s32 *hdr = rec + off;

	hdr[0] = bpf_probe_read_kernel_str(rec + off + 8, TSBPF_LOG_STR_MAX, s);
	hdr[1] = TSBPF_LOG_STR_MAX;
}

static __always_inline void __tsbpf_log_put_ustr(void *rec, __u32 off, struct tsbpf_log_ustr s)
{
	__s32 *hdr = rec + off;

	hdr[0] = bpf_probe_read_user_str(rec + off + 8, TSBPF_LOG_STR_MAX, s.ptr);
	hdr[1] = TSBPF_LOG_STR_MAX;
}

static __always_inline void __tsbpf_log_put_mac(void *rec, __u32 off, struct tsbpf_log_mac m)
{
	*(__u64 *)(rec + off) = 0;
	bpf_probe_read_kernel(rec + off, 6, m.ptr);
}

/* Writes x at rec + off; the function is picked by x's type (only that call is checked). */
#define __tsbpf_log_put(rec, off, x)                                                 \
	_Generic((x),                                                                \
		_Bool: __tsbpf_log_put_num, char: __tsbpf_log_put_num,                \
		signed char: __tsbpf_log_put_num, unsigned char: __tsbpf_log_put_num, \
		short: __tsbpf_log_put_num, unsigned short: __tsbpf_log_put_num,      \
		int: __tsbpf_log_put_num, unsigned int: __tsbpf_log_put_num,          \
		long: __tsbpf_log_put_num, unsigned long: __tsbpf_log_put_num,        \
		long long: __tsbpf_log_put_num, unsigned long long: __tsbpf_log_put_num, \
		char *: __tsbpf_log_put_kstr, const char *: __tsbpf_log_put_kstr,     \
		struct tsbpf_log_ustr: __tsbpf_log_put_ustr,                          \
		struct tsbpf_log_mac: __tsbpf_log_put_mac,                            \
		default: __tsbpf_log_put_ptr)(rec, off, x)

/* Argument counting and per-argument expansion, up to TSBPF_LOG_MAX_ARGS. */
#define __TSBPF_LOG_NARGS(...) __TSBPF_LOG_NARGS_(_, ##__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __TSBPF_LOG_NARGS_(_, a1, a2, a3, a4, a5, a6, a7, a8, n, ...) n
#define __TSBPF_LOG_CAT(a, b) __TSBPF_LOG_CAT_(a, b)
#define __TSBPF_LOG_CAT_(a, b) a##b
#define __TSBPF_LOG_EACH(M, ...)                                                     \
	__TSBPF_LOG_CAT(__TSBPF_LOG_EACH_, __TSBPF_LOG_NARGS(__VA_ARGS__))(M, ##__VA_ARGS__)
#define __TSBPF_LOG_EACH_0(M)
#define __TSBPF_LOG_EACH_1(M, a) M(a)
#define __TSBPF_LOG_EACH_2(M, a, ...) M(a) __TSBPF_LOG_EACH_1(M, __VA_ARGS__)
#define __TSBPF_LOG_EACH_3(M, a, ...) M(a) __TSBPF_LOG_EACH_2(M, __VA_ARGS__)
#define __TSBPF_LOG_EACH_4(M, a, ...) M(a) __TSBPF_LOG_EACH_3(M, __VA_ARGS__)
#define __TSBPF_LOG_EACH_5(M, a, ...) M(a) __TSBPF_LOG_EACH_4(M, __VA_ARGS__)
#define __TSBPF_LOG_EACH_6(M, a, ...) M(a) __TSBPF_LOG_EACH_5(M, __VA_ARGS__)
#define __TSBPF_LOG_EACH_7(M, a, ...) M(a) __TSBPF_LOG_EACH_6(M, __VA_ARGS__)
#define __TSBPF_LOG_EACH_8(M, a, ...) M(a) __TSBPF_LOG_EACH_7(M, __VA_ARGS__)

#define __TSBPF_LOG_TYPE_ITEM(x) __tsbpf_log_type(x),
#define __TSBPF_LOG_SIZE_ITEM(x) +__tsbpf_log_size(x)
#define __TSBPF_LOG_PUT_ITEM(x)                                                      \
	__tsbpf_log_put(__rec, __off, x);                                            \
	__off += __tsbpf_log_size(x);

/*
 * One call site. The descriptor is a block-scope static, so clang names its symbol
 * and BTF variable "<function>.__tsbpf_log_site": the reader takes the function's
 * name from there as the record's target. `used` keeps it although no instruction
 * reads it.
 */
#define __tsbpf_log(ctx, lvl, id, fmt, ...)                                          \
	({                                                                           \
		_Static_assert(__TSBPF_LOG_NARGS(__VA_ARGS__) <= TSBPF_LOG_MAX_ARGS, \
			       "tsbpf_log: at most 8 arguments");                    \
		static const struct {                                                \
			__u32 magic;                                                 \
			__u32 site;                                                  \
			__u8 level;                                                  \
			__u8 nargs;                                                  \
			__u8 version;                                                \
			__u8 reserved;                                               \
			__u8 types[TSBPF_LOG_MAX_ARGS];                              \
			char format[sizeof(fmt)];                                     \
		} __tsbpf_log_site __attribute__((used, section(".rodata.tsbpf_log"))) = { \
			TSBPF_LOG_SITE_MAGIC,                                        \
			id,                                                          \
			lvl,                                                         \
			__TSBPF_LOG_NARGS(__VA_ARGS__),                              \
			TSBPF_LOG_VERSION,                                           \
			0,                                                           \
			{ __TSBPF_LOG_EACH(__TSBPF_LOG_TYPE_ITEM, ##__VA_ARGS__) },  \
			fmt,                                                         \
		};                                                                   \
		(void)(ctx);                                                         \
		if ((lvl) <= tsbpf_log_level) {                                      \
			void *__rec = bpf_ringbuf_reserve(                           \
				&TSBPF_LOG,                                          \
				sizeof(struct tsbpf_log_record) +                    \
					(0 __TSBPF_LOG_EACH(__TSBPF_LOG_SIZE_ITEM, ##__VA_ARGS__)), \
				0);                                                  \
			if (__rec) {                                                 \
				struct tsbpf_log_record *__hdr = __rec;              \
				__u32 __off = sizeof(struct tsbpf_log_record);       \
				__hdr->site = (id);                                  \
				__hdr->level = (lvl);                                \
				__hdr->nargs = __TSBPF_LOG_NARGS(__VA_ARGS__);       \
				__hdr->version = TSBPF_LOG_VERSION;                  \
				__hdr->reserved = 0;                                 \
				const __u8 __types[TSBPF_LOG_MAX_ARGS] = {          \
					__TSBPF_LOG_EACH(__TSBPF_LOG_TYPE_ITEM, ##__VA_ARGS__) \
				};                                                   \
				__builtin_memcpy(__hdr->types, __types, TSBPF_LOG_MAX_ARGS); \
				__TSBPF_LOG_EACH(__TSBPF_LOG_PUT_ITEM, ##__VA_ARGS__) \
				(void)__off;                                         \
				bpf_ringbuf_submit(__rec, 0);                        \
			} else {                                                     \
				__sync_fetch_and_add(&tsbpf_log_dropped, 1);         \
			}                                                            \
		}                                                                    \
	})

/*
 * Logging calls: `ctx` is the program's context (kept for aya-log's shape; unused).
 * tsbpf_log_info() and friends always exist; log_info() and friends unless
 * TSBPF_LOG_NO_SHORT_NAMES is defined (when another header has a log_info).
 */
#define tsbpf_log_error(ctx, fmt, ...) __tsbpf_log(ctx, TSBPF_LOG_ERROR, __COUNTER__, fmt, ##__VA_ARGS__)
#define tsbpf_log_warn(ctx, fmt, ...) __tsbpf_log(ctx, TSBPF_LOG_WARN, __COUNTER__, fmt, ##__VA_ARGS__)
#define tsbpf_log_info(ctx, fmt, ...) __tsbpf_log(ctx, TSBPF_LOG_INFO, __COUNTER__, fmt, ##__VA_ARGS__)
#define tsbpf_log_debug(ctx, fmt, ...) __tsbpf_log(ctx, TSBPF_LOG_DEBUG, __COUNTER__, fmt, ##__VA_ARGS__)
#define tsbpf_log_trace(ctx, fmt, ...) __tsbpf_log(ctx, TSBPF_LOG_TRACE, __COUNTER__, fmt, ##__VA_ARGS__)

#ifndef TSBPF_LOG_NO_SHORT_NAMES
#define log_error tsbpf_log_error
#define log_warn tsbpf_log_warn
#define log_info tsbpf_log_info
#define log_debug tsbpf_log_debug
#define log_trace tsbpf_log_trace
#endif

#endif /* __TSBPF_LOG_H */
