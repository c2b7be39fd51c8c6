/**
 * Constants of the bpf(2) ABI that the kernel defines with `#define` (so BTF cannot
 * tell us): hand-written from include/uapi/linux/bpf.h and if_link.h. Everything that
 * is an enum in the kernel lives in bpf.generated.ts instead, and is referred to from
 * here rather than repeated (`AttachFlags.LINK` is `MapFlags.LINK`; the file flags
 * RDONLY/WRONLY of BPF_OBJ_GET and the *_GET_FD_BY_ID commands are `MapFlags.RDONLY`
 * and `MapFlags.WRONLY`).
 *
 * Instruction-level constants (opcodes, BPF_PSEUDO_*) are in insn.ts.
 *
 * @module
 */

import { MapFlags } from "./bpf.generated.ts";

/** Length of map, program and link names including the NUL (BPF_OBJ_NAME_LEN). */
export const BPF_OBJ_NAME_LEN = 16;

/** Size of a program tag in bytes (BPF_TAG_SIZE): a truncated SHA-1 of the instructions. */
export const BPF_TAG_SIZE = 8;

/** Size of a build id in struct bpf_stack_build_id (BPF_BUILD_ID_SIZE). */
export const BPF_BUILD_ID_SIZE = 20;

/** `bpfAttr.progLoad.prog_flags` (BPF_F_* for BPF_PROG_LOAD). */
export const ProgLoadFlags = {
  /** BPF_F_STRICT_ALIGNMENT: verify alignment as if the CPU required it. */
  STRICT_ALIGNMENT: 1 << 0,
  /** BPF_F_ANY_ALIGNMENT: skip alignment checks (testing only). */
  ANY_ALIGNMENT: 1 << 1,
  /** BPF_F_TEST_RND_HI32: fill upper 32 bits with random values (testing only). */
  TEST_RND_HI32: 1 << 2,
  /** BPF_F_TEST_STATE_FREQ: checkpoint verifier states often (testing only). */
  TEST_STATE_FREQ: 1 << 3,
  /** BPF_F_SLEEPABLE: the program may sleep. */
  SLEEPABLE: 1 << 4,
  /** BPF_F_XDP_HAS_FRAGS: the XDP program handles multi-buffer packets. */
  XDP_HAS_FRAGS: 1 << 5,
  /** BPF_F_XDP_DEV_BOUND_ONLY: the XDP program is bound to a device (kfuncs of its driver). */
  XDP_DEV_BOUND_ONLY: 1 << 6,
  /** BPF_F_TEST_REG_INVARIANTS: check register bound invariants (testing only). */
  TEST_REG_INVARIANTS: 1 << 7,
} as const;
/** A value of {@link ProgLoadFlags}. */
export type ProgLoadFlags = (typeof ProgLoadFlags)[keyof typeof ProgLoadFlags];

/** `bpfAttr.progLoad.log_level` bits (and `btfLoad.btf_log_level`). */
export const LogLevel = {
  /** Level 1: the verifier's path and a summary. */
  LEVEL1: 1,
  /** Level 2: every instruction with register state. */
  LEVEL2: 2,
  /** BPF_LOG_STATS: statistics only (instructions processed, states, time). */
  STATS: 4,
} as const;
/** A value of {@link LogLevel}. */
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** `bpfAttr.test.flags` (BPF_PROG_TEST_RUN). */
export const TestRunFlags = {
  /** BPF_F_TEST_RUN_ON_CPU: run on `test.cpu` (raw tracepoint programs). */
  RUN_ON_CPU: 1 << 0,
  /** BPF_F_TEST_XDP_LIVE_FRAMES: send the XDP frames for real (XDP_TX, XDP_REDIRECT). */
  XDP_LIVE_FRAMES: 1 << 1,
  /** BPF_F_TEST_SKB_CHECKSUM_COMPLETE: give the skb CHECKSUM_COMPLETE. */
  SKB_CHECKSUM_COMPLETE: 1 << 2,
} as const;
/** A value of {@link TestRunFlags}. */
export type TestRunFlags = (typeof TestRunFlags)[keyof typeof TestRunFlags];

/** `bpfAttr.progAttach.attach_flags` and the mprog flags of `linkCreate.flags` (tcx, netkit). */
export const AttachFlags = {
  /** BPF_F_ALLOW_OVERRIDE: a program in a sub-cgroup may override this one. */
  ALLOW_OVERRIDE: 1 << 0,
  /** BPF_F_ALLOW_MULTI: several programs may be attached; all run. */
  ALLOW_MULTI: 1 << 1,
  /** BPF_F_REPLACE: replace `replace_bpf_fd` atomically. */
  REPLACE: 1 << 2,
  /** BPF_F_BEFORE: insert before the relative program or link. */
  BEFORE: 1 << 3,
  /** BPF_F_AFTER: insert after the relative program or link. */
  AFTER: 1 << 4,
  /** BPF_F_ID: `relative_fd` is an id (`relative_id`). */
  ID: 1 << 5,
  /** BPF_F_LINK: the relative object is a link (the kernel reuses the map flag bit). */
  LINK: MapFlags.LINK,
} as const;
/** A value of {@link AttachFlags}. */
export type AttachFlags = (typeof AttachFlags)[keyof typeof AttachFlags];

/** `bpfAttr.query.query_flags` (BPF_PROG_QUERY). */
export const QueryFlags = {
  /** BPF_F_QUERY_EFFECTIVE: the programs that run, inherited ones included. */
  EFFECTIVE: 1 << 0,
} as const;
/** A value of {@link QueryFlags}. */
export type QueryFlags = (typeof QueryFlags)[keyof typeof QueryFlags];

/**
 * `file_flags`/`open_flags` of BPF_OBJ_GET and BPF_*_GET_FD_BY_ID: the same bits as
 * the map creation flags of the same names.
 */
export const FileFlags = {
  RDONLY: MapFlags.RDONLY,
  WRONLY: MapFlags.WRONLY,
} as const;
/** A value of {@link FileFlags}. */
export type FileFlags = (typeof FileFlags)[keyof typeof FileFlags];

/** XDP_FLAGS_* (include/uapi/linux/if_link.h): attaching XDP through netlink or a link. */
export const XdpFlags = {
  /** XDP_FLAGS_UPDATE_IF_NOEXIST: fail if a program is already attached. */
  UPDATE_IF_NOEXIST: 1 << 0,
  /** XDP_FLAGS_SKB_MODE: generic XDP. */
  SKB_MODE: 1 << 1,
  /** XDP_FLAGS_DRV_MODE: native (driver) XDP. */
  DRV_MODE: 1 << 2,
  /** XDP_FLAGS_HW_MODE: offloaded to the NIC. */
  HW_MODE: 1 << 3,
  /** XDP_FLAGS_REPLACE: replace the program given by expected fd. */
  REPLACE: 1 << 4,
} as const;
/** A value of {@link XdpFlags}. */
export type XdpFlags = (typeof XdpFlags)[keyof typeof XdpFlags];
