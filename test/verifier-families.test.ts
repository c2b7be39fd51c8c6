/**
 * Named programs for the verifier's rule families (issue 11), each judged by tsbpf and
 * by the running kernel: the same verdict, and for a rejection the same error line at
 * the same instruction. One program per rule that a family adds: socket references and
 * their leaks, socket field access, the socket-level contexts, packet pointers found at
 * or beyond pkt_end, pointer equality that proves non-NULL, out-parameters, helper
 * availability per program type, and legacy loads in subprograms.
 * The verifier follows Linux 6.18, so other kernels skip.
 */
import assert from "node:assert/strict";
import { release } from "node:os";
import { describe, test } from "node:test";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { kernelVerdict } from "../src/kernel/programs/verdict.ts";
import { parseCase, verifyCase } from "../src/verifier/index.ts";
import { kernelSkip, needs } from "./support/kernel.ts";

const MODEL_KERNEL = "6.18";
const versionSkip: string | false = release().startsWith(`${MODEL_KERNEL}.`)
  ? false
  : `the verifier follows Linux ${MODEL_KERNEL}; this kernel is ${release()}`;

interface Named {
  readonly name: string;
  /** `prog_type[:expected_attach_type]` as CASE.json names them. */
  readonly type: string;
  readonly asm: string;
  readonly maps?: readonly object[];
  readonly funcs?: readonly object[];
  /** What the kernel says, for the reader (the test compares with the kernel itself). */
  readonly expect: string;
  /** Also the kernel's count of processed instructions (pruning decided the same way). */
  readonly sameProcessed?: boolean;
}

/** A tuple of 36 zero bytes at fp-40 and a TCP lookup of it from r6's context. */
const LOOKUP = `
r6 = r1
r1 = 0
*(u64 *)(r10 -8) = r1
*(u64 *)(r10 -16) = r1
*(u64 *)(r10 -24) = r1
*(u64 *)(r10 -32) = r1
*(u64 *)(r10 -40) = r1
r1 = r6
r2 = r10
r2 += -40
r3 = 36
r4 = 0
r5 = 0
call bpf_sk_lookup_tcp
`;

/** Looks up key 0 of map 0 into r0 (r1-r5 clobbered). */
const LOOKUP_KEY0 = `r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[id:0]
call bpf_map_lookup_elem
`;
/** An array of one 16-byte value. */
const ARRAY16 = { type: "array", key_size: 4, value_size: 16, max_entries: 1 };
/** Instructions that touch nothing the programs use: enough for the kernel to take a checkpoint. */
const PAD = "r9 = 0\n".repeat(8);

/** A hash map whose 16-byte value holds a bpf_spin_lock at offset 4. */
const LOCK_MAP = { type: "hash", key_size: 4, value_size: 16, max_entries: 4, spin_lock_off: 4 };
/** Looks up key 0 into r6 (to `out` when missing) and takes the value's lock. */
const LOCKED = `r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[id:0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r6 = r0
r1 = r6
r1 += 4
call bpf_spin_lock
`;

const NAMED: readonly Named[] = [
  {
    name: "socket lookup released",
    type: "sched_cls",
    asm: `${LOOKUP}if r0 == 0 goto out\nr1 = r0\ncall bpf_sk_release\nout:\nr0 = 0\nexit`,
    expect: "verified",
  },
  {
    name: "socket lookup leaked",
    type: "sched_cls",
    asm: `${LOOKUP}r0 = 0\nexit`,
    expect: "Unreleased reference id=2 alloc_insn=13",
  },
  {
    name: "release before the NULL check",
    type: "sched_cls",
    asm: `${LOOKUP}r1 = r0\ncall bpf_sk_release\nr0 = 0\nexit`,
    expect: "R1 type=sock_or_null expected=sock_common, sock, ...",
  },
  {
    name: "socket field read",
    type: "sched_cls",
    asm: `${LOOKUP}if r0 == 0 goto out\nr2 = *(u32 *)(r0 +4)\nr1 = r0\ncall bpf_sk_release\nout:\nr0 = 0\nexit`,
    expect: "verified",
  },
  {
    name: "socket field read too wide",
    type: "sched_cls",
    asm: `${LOOKUP}if r0 == 0 goto out\nr2 = *(u64 *)(r0 +0)\nr1 = r0\ncall bpf_sk_release\nout:\nr0 = 0\nexit`,
    expect: "R0 invalid sock access off=0 size=8",
  },
  {
    name: "socket field write",
    type: "sched_cls",
    asm: `${LOOKUP}if r0 == 0 goto out\nr2 = 1\n*(u32 *)(r0 +4) = r2\nr1 = r0\ncall bpf_sk_release\nout:\nr0 = 0\nexit`,
    expect: "R0 cannot write into sock",
  },
  {
    name: "reference held over a tail call",
    type: "sched_cls",
    asm: `${LOOKUP}r7 = r0\nr1 = r6\nr2 = map[id:0]\nr3 = 0\ncall bpf_tail_call\nif r7 == 0 goto out\nr1 = r7\ncall bpf_sk_release\nout:\nr0 = 0\nexit`,
    maps: [{ type: "prog_array", key_size: 4, value_size: 4, max_entries: 1 }],
    expect: "Unreleased reference id=2 alloc_insn=13 (tail_call would lead to reference leak)",
  },
  {
    name: "skb->sk through bpf_sk_fullsock and bpf_tcp_sock",
    type: "cgroup_skb:cgroup_inet_ingress",
    asm: `r1 = *(u64 *)(r1 +168)\nif r1 == 0 goto out\ncall bpf_sk_fullsock\nif r0 == 0 goto out\nr1 = r0\ncall bpf_tcp_sock\nif r0 == 0 goto out\nr2 = *(u32 *)(r0 +0)\nout:\nr0 = 1\nexit`,
    expect: "verified",
  },
  {
    name: "ring buffer record leaked",
    type: "xdp",
    asm: "r1 = map[id:0]\nr2 = 8\nr3 = 0\ncall bpf_ringbuf_reserve\nr0 = 0\nexit",
    maps: [{ type: "ringbuf", key_size: 0, value_size: 0, max_entries: 4096 }],
    expect: "Unreleased reference id=2 alloc_insn=4",
  },
  {
    name: "sock_addr: 8-byte store into user_ip6[0]",
    type: "cgroup_sock_addr:cgroup_inet6_connect",
    asm: "r2 = 0\n*(u64 *)(r1 +8) = r2\nr0 = 1\nexit",
    expect: "verified",
  },
  {
    name: "sock_addr: 8-byte store into user_ip6[1]",
    type: "cgroup_sock_addr:cgroup_inet6_connect",
    asm: "r2 = 0\n*(u64 *)(r1 +12) = r2\nr0 = 1\nexit",
    expect: "invalid bpf_context access off=12 size=8",
  },
  {
    name: "sock_addr: user_ip4 on an IPv6 hook",
    type: "cgroup_sock_addr:cgroup_inet6_connect",
    asm: "r2 = *(u32 *)(r1 +4)\nr0 = 1\nexit",
    expect: "invalid bpf_context access off=4 size=4",
  },
  {
    name: "sk_msg: family, data and data_end",
    type: "sk_msg",
    asm: "r2 = *(u32 *)(r1 +16)\nr2 = *(u64 *)(r1 +0)\nr3 = *(u64 *)(r1 +8)\nr0 = 1\nexit",
    expect: "verified",
  },
  {
    name: "sk_msg: a read at an odd offset",
    type: "sk_msg",
    asm: "r2 = *(u32 *)(r1 +17)\nr0 = 1\nexit",
    expect: "invalid bpf_context access off=17 size=4",
  },
  {
    name: "sk_lookup: 4-byte read of the 2-byte remote_port",
    type: "sk_lookup:sk_lookup",
    asm: "r2 = *(u32 *)(r1 +36)\nr0 = 1\nexit",
    expect: "verified",
  },
  {
    name: "sk_lookup: 8-byte read of family",
    type: "sk_lookup:sk_lookup",
    asm: "r2 = *(u64 *)(r1 +8)\nr0 = 1\nexit",
    expect: "invalid bpf_context access off=8 size=8",
  },
  {
    name: "sockopt: retval written by a setsockopt hook",
    type: "cgroup_sockopt:cgroup_setsockopt",
    asm: "r2 = 0\n*(u32 *)(r1 +36) = r2\nr0 = 1\nexit",
    expect: "invalid bpf_context access off=36 size=4",
  },
  {
    name: "sock_ops: skb_data and skb_data_end",
    type: "sock_ops",
    asm: "r2 = *(u64 *)(r1 +192)\nr3 = *(u64 *)(r1 +200)\nr4 = r2\nr4 += 1\nif r4 > r3 goto out\nr0 = *(u8 *)(r2 +0)\nout:\nr0 = 1\nexit",
    expect: "verified",
  },
  {
    name: "lwt_in: no packet writes",
    type: "lwt_in",
    asm: "r2 = *(u32 *)(r1 +76)\nr3 = *(u32 *)(r1 +80)\nr4 = r2\nr4 += 1\nif r4 > r3 goto out\nr5 = 0\n*(u8 *)(r2 +0) = r5\nout:\nr0 = 0\nexit",
    expect: "cannot write into packet",
  },
  {
    name: "packet pointer beyond pkt_end",
    type: "xdp",
    asm: "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nif r2 > r3 goto over\nr0 = 1\nexit\nover:\nr0 = *(u8 *)(r2 +0)\nr0 = 1\nexit",
    expect: "R2 offset is outside of the packet",
  },
  {
    name: "equal to a pointer that is not NULL",
    type: "xdp",
    asm: `r1 = 0
*(u32 *)(r10 -4) = r1
r2 = r10
r2 += -4
r1 = map[id:0]
call bpf_map_lookup_elem
if r0 == 0 goto out
r7 = r0
r2 = r10
r2 += -4
r1 = map[id:0]
call bpf_map_lookup_elem
if r0 != r7 goto out
r0 = *(u32 *)(r0 +0)
out:
r0 = 0
exit`,
    maps: [{ type: "hash", key_size: 4, value_size: 8, max_entries: 4 }],
    expect: "verified",
  },
  {
    name: "strtol's result misaligned on the stack",
    type: "cgroup_sysctl",
    asm: "r1 = 0\n*(u64 *)(r10 -8) = r1\n*(u64 *)(r10 -24) = r1\n*(u64 *)(r10 -16) = r1\nr1 = r10\nr1 += -8\nr2 = 4\nr3 = 0\nr4 = r10\nr4 += -20\ncall bpf_strtol\nr0 = 1\nexit",
    expect: "misaligned stack access off 0+-20+0 size 8",
  },
  {
    name: "a socket-buffer helper from XDP",
    type: "xdp",
    asm: "r2 = 0\nr3 = r10\nr3 += -8\nr4 = 8\ncall bpf_skb_load_bytes\nr0 = 0\nexit",
    expect: "program of this type cannot use helper bpf_skb_load_bytes#26",
  },
  {
    name: "spin lock taken and released",
    type: "sched_cls",
    asm: `${LOCKED}r1 = r6\nr1 += 4\ncall bpf_spin_unlock\nout:\nr0 = 0\nexit`,
    maps: [LOCK_MAP],
    expect: "verified",
  },
  {
    name: "a helper called under a spin lock",
    type: "sched_cls",
    asm: `${LOCKED}call bpf_ktime_get_ns\nr1 = r6\nr1 += 4\ncall bpf_spin_unlock\nout:\nr0 = 0\nexit`,
    maps: [LOCK_MAP],
    expect: "function calls are not allowed while holding a lock",
  },
  {
    name: "exit under a spin lock",
    type: "sched_cls",
    asm: `${LOCKED}out:\nr0 = 0\nexit`,
    maps: [LOCK_MAP],
    expect: "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region",
  },
  {
    name: "the lock's bytes read directly",
    type: "sched_cls",
    asm: `${LOCKED}r2 = *(u32 *)(r6 +4)\nr1 = r6\nr1 += 4\ncall bpf_spin_unlock\nout:\nr0 = 0\nexit`,
    maps: [LOCK_MAP],
    expect: "bpf_spin_lock cannot be accessed directly by load/store",
  },
  {
    name: "LD_ABS in a subprogram without BTF",
    type: "socket_filter",
    asm: "r6 = r1\ncall pc+2\nr0 = 0\nexit\nr0 = *(u8 *)skb[0]\nexit",
    expect: "LD_ABS is not allowed in subprogs without BTF",
  },
  {
    name: "LD_ABS in a subprogram returning void",
    type: "socket_filter",
    asm: "r6 = r1\ncall pc+2\nr0 = 0\nexit\nr0 = *(u8 *)skb[0]\nexit",
    funcs: [
      { insn_off: 0, linkage: "static" },
      { insn_off: 4, linkage: "static", ret: "void" },
    ],
    expect: "LD_ABS is only allowed in functions that return 'int'.",
  },
  {
    name: "an atomic fetch into its own address register",
    type: "sched_cls",
    asm: `${LOOKUP_KEY0}if r0 == 0 goto out\nr0 = atomic_xchg((u32 *)(r0 +12), r0)\nout:\nr0 = 0\nexit`,
    maps: [ARRAY16],
    expect: "misaligned access off (0x0; 0xffffffffffffffff)+0+12 size 4",
  },
  {
    name: "a ring buffer record of 2^32 bytes (the size wraps to 0)",
    type: "sched_cls",
    asm: `r1 = map[id:0]\nr2 = 1\nr2 <<= 32\nr3 = 0\ncall bpf_ringbuf_reserve\nif r0 == 0 goto out\nr1 = 0\n*(u64 *)(r0 +0) = r1\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_discard\nout:\nr0 = 0\nexit`,
    maps: [{ type: "ringbuf", key_size: 0, value_size: 0, max_entries: 4096 }],
    expect: "invalid access to memory, mem_size=0 off=0 size=8",
  },
  // Precision tracking: a checkpoint compares by value only the scalars a check relied on.
  {
    name: "precision: a bound learnt through a linked copy keeps both precise",
    type: "sched_cls",
    asm: `call bpf_get_prandom_u32\nr7 = r0\ncall bpf_get_prandom_u32\n${PAD}if r0 > 10 goto a\nr8 = r7\ngoto b\na:\nr8 = r0\nb:\n${PAD}if r7 > 4 goto out\n${LOOKUP_KEY0}if r0 == 0 goto out\nr0 += r8\nr0 = *(u8 *)(r0 +0)\nout:\nr0 = 0\nexit`,
    maps: [ARRAY16],
    expect: "math between map_value pointer and register with unbounded min value is not allowed",
  },
  {
    name: "precision: a constant spilled on one path and filled later is compared",
    type: "sched_cls",
    asm: `call bpf_get_prandom_u32\n${PAD}if r0 > 10 goto a\nr8 = 1\n*(u64 *)(r10 -16) = r8\ngoto b\na:\nr8 = 100\n*(u64 *)(r10 -16) = r8\nb:\n${PAD}r8 = 0\n${LOOKUP_KEY0}if r0 == 0 goto out\nr8 = *(u64 *)(r10 -16)\nr0 += r8\nr0 = *(u8 *)(r0 +0)\nout:\nr0 = 0\nexit`,
    maps: [ARRAY16],
    expect: "invalid access to map value, value_size=16 off=100 size=1",
  },
  {
    name: "precision: constants no check used prune (the kernel's processed count)",
    type: "socket_filter",
    asm: `call bpf_get_prandom_u32\n${PAD}if r0 > 10 goto a\nr7 = 1\ngoto b\na:\nr7 = 2\nb:\n${PAD}${PAD}r0 = r7\nexit`,
    expect: "verified",
    sameProcessed: true,
  },
  {
    name: "precision: a spilled scalar and eight unknown stack bytes prune each other",
    type: "socket_filter",
    asm: `call bpf_get_prandom_u32\nr0 = -r0\n${PAD}if r0 > 10 goto a\n*(u64 *)(r10 -8) = r0\ngoto b\na:\n*(u32 *)(r10 -8) = r0\n*(u32 *)(r10 -4) = r0\nb:\n${PAD}${PAD}r0 = *(u64 *)(r10 -8)\nr0 = 0\nexit`,
    expect: "verified",
    sameProcessed: true,
  },
  {
    name: "stack liveness: a slot read through a copy of the frame pointer stays live",
    type: "socket_filter",
    asm: `r6 = r1\ncall bpf_get_prandom_u32\n${PAD}if r0 > 10 goto a\n*(u64 *)(r10 -16) = r6\ngoto b\na:\n*(u64 *)(r10 -16) = r0\nb:\n${PAD}${PAD}r1 = r10\nr1 += -16\nr1 = *(u64 *)(r1 +0)\nr0 = *(u32 *)(r1 +0)\nr0 = 0\nexit`,
    expect: "R1 invalid mem access 'scalar'",
  },
  {
    name: "stack liveness: a slot written before it is read again is not compared",
    type: "socket_filter",
    asm: `r6 = r1\ncall bpf_get_prandom_u32\n${PAD}if r0 > 10 goto a\n*(u64 *)(r10 -16) = r6\ngoto b\na:\n*(u64 *)(r10 -16) = r0\nb:\n${PAD}${PAD}r1 = 0\n*(u64 *)(r10 -16) = r1\nr0 = *(u64 *)(r10 -16)\nr0 = 0\nexit`,
    expect: "verified",
    sameProcessed: true,
  },
];

function caseOf(n: Named) {
  const [progType, attach] = n.type.split(":");
  return parseCase({
    name: "named",
    prog_type: progType as string,
    ...(attach ? { expected_attach_type: attach } : {}),
    insns: Buffer.from(encodeProgram(assemble(n.asm))).toString("hex"),
    maps: (n.maps ?? []) as never,
    ...(n.funcs ? { funcs: n.funcs as never } : {}),
  });
}

describe("named programs of each rule family, against the kernel", {
  skip: needs(kernelSkip, versionSkip),
}, () => {
  for (const n of NAMED) {
    test(n.name, () => {
      const c = caseOf(n);
      const k = kernelVerdict(c);
      const v = verifyCase(c);
      const kernel = k.accepted ? "verified" : `${k.insn}: ${k.errorLine}`;
      const tsbpf = v.accepted ? "verified" : `${v.error?.insn}: ${v.error?.message}`;
      assert.equal(tsbpf, kernel, `expected like ${n.expect}`);
      if (n.sameProcessed) assert.equal(v.stats.processed, k.stats?.processed, "processed insns");
      if (n.expect === "verified") assert.equal(kernel, "verified", "the example's premise");
      else
        assert.ok(kernel.includes(n.expect.split(" (")[0] as string) || n.expect.includes("..."));
    });
  }
});
