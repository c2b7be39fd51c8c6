/**
 * Where a program attaches, as plain data: the ELF loader reads a program's SEC() name
 * once and writes an {@link AttachDescriptor} into its spec (as cilium/ebpf sets
 * AttachType/AttachTo when reading the ELF); the kernel's attach code, the VM and the
 * CLI read the descriptor and never parse a section name themselves.
 *
 * Also here: the parsers of the target text after a form's `/` (`FUNC+OFFSET`,
 * `BINARY:FUNC`, `GROUP/NAME`), pure and shared with the attach functions that take
 * the same text from users.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { ProgType } from "../uapi/index.ts";

/** Program types attached to a cgroup (with an expected attach type naming the hook). */
export const CGROUP_PROG_TYPES: ReadonlySet<number> = new Set<number>([
  ProgType.CGROUP_SKB,
  ProgType.CGROUP_SOCK,
  ProgType.CGROUP_DEVICE,
  ProgType.CGROUP_SOCK_ADDR,
  ProgType.CGROUP_SYSCTL,
  ProgType.CGROUP_SOCKOPT,
  ProgType.SOCK_OPS,
]);

/** A SEC() form newer than tsbpf's uapi: the attach type it needs, which the uapi lacks. */
export interface SectionRequirement {
  /** The C name of the attach type, e.g. `"BPF_TRACE_FENTRY_MULTI"`. */
  readonly attachType: string;
  /** Its value in `enum bpf_attach_type` of the libbpf release the table came from. */
  readonly value?: number;
}

/**
 * The hook a program goes to. Kinds that need something only the caller knows (an
 * interface, a cgroup) say so in the attach call; `manual` is a program the loader
 * cannot attach by itself, with the reason (a socket filter, a bare `SEC("kprobe")`
 * without a function, a malformed target).
 */
export type AttachHook =
  | { readonly kind: "tracepoint"; readonly group: string; readonly name: string }
  | { readonly kind: "raw_tracepoint"; readonly name: string }
  | {
      readonly kind: "kprobe";
      readonly retprobe: boolean;
      readonly symbol: string;
      readonly offset: number;
    }
  | { readonly kind: "kprobe_multi"; readonly retprobe: boolean; readonly pattern: string }
  | { readonly kind: "ksyscall"; readonly retprobe: boolean; readonly syscall: string }
  | {
      readonly kind: "uprobe";
      readonly retprobe: boolean;
      readonly binary: string;
      /** The function; undefined when the target is a file offset. */
      readonly func: string | undefined;
      readonly offset: bigint;
    }
  | {
      readonly kind: "usdt";
      /** The executable or library (a path, a library name or a program in $PATH). */
      readonly binary: string;
      readonly provider: string;
      readonly name: string;
    }
  /** fentry, fexit, fmod_ret, tp_btf, freplace: the BTF-named function or tracepoint. */
  | { readonly kind: "tracing"; readonly target: string }
  | { readonly kind: "lsm"; readonly hook: string }
  | { readonly kind: "iter"; readonly target: string }
  /** A cgroup program: the cgroup comes from the caller, the attach type from the spec. */
  | { readonly kind: "cgroup" }
  /** XDP: the interface comes from the caller. */
  | { readonly kind: "xdp" }
  /** tcx (Linux >= 6.6): the interface comes from the caller. */
  | { readonly kind: "tcx"; readonly direction: "ingress" | "egress" }
  /** A tc classifier (`SEC("tc")`): the interface and direction come from the caller. */
  | { readonly kind: "tc" }
  /** sk_lookup or flow_dissector: on a network namespace (the caller's by default). */
  | { readonly kind: "netns" }
  /** sk_skb or sk_msg: the sockmap or sockhash comes from the caller. */
  | { readonly kind: "sockmap" }
  /** A socket filter: the socket comes from the caller. */
  | { readonly kind: "socket" }
  /** A netfilter program: family, hook and priority come from the caller. */
  | { readonly kind: "netfilter" }
  | { readonly kind: "manual"; readonly reason: string };

/** What a program's SEC() name says about attaching it. */
export interface AttachDescriptor {
  /** The SEC() name it was read from. */
  readonly section: string;
  /** libbpf's form that matched: its prefix, with `+` when it takes a target (`kprobe+`). */
  readonly form: string;
  /** The hook. */
  readonly hook: AttachHook;
  /** True when libbpf's skeleton would attach it automatically (`__attach`). */
  readonly autoAttach: boolean;
  /** Loaded with BPF_F_SLEEPABLE (the `.s` forms). */
  readonly sleepable: boolean;
  /** Set for forms newer than tsbpf's uapi: loading and attaching refuse them. */
  readonly unsupported?: SectionRequirement;
}

/**
 * `GROUP/NAME` or `GROUP:NAME` (a tracepoint) as its two parts.
 * @throws Error naming the text when it is not of that form
 */
export function splitTracepoint(spec: string): { group: string; name: string } {
  const i = spec.search(/[/:]/);
  if (i <= 0 || i === spec.length - 1) {
    throw new Error(`tracepoint "${spec}" is not GROUP/NAME (e.g. syscalls/sys_enter_openat)`);
  }
  return { group: spec.slice(0, i), name: spec.slice(i + 1) };
}

/**
 * `FUNC` or `FUNC+OFFSET` (a kprobe target; OFFSET decimal or 0x hex).
 * @throws Error naming the text when it is not of that form
 */
export function parseKprobeTarget(target: string): { symbol: string; offset: number } {
  const m = /^([A-Za-z0-9_.$]+)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(target);
  if (!m) throw new Error(`kprobe target "${target}" is not FUNC or FUNC+OFFSET`);
  return { symbol: m[1] as string, offset: m[2] ? Number(m[2]) : 0 };
}

/**
 * `BINARY:FUNC[+OFFSET]` or `BINARY:OFFSET` (a uprobe target).
 * @throws Error naming the text when it is not of that form
 */
export function parseUprobeTarget(target: string): {
  binary: string;
  func: string | undefined;
  offset: bigint;
} {
  const i = target.lastIndexOf(":");
  if (i <= 0) throw new Error(`uprobe target "${target}" is not BINARY:FUNCTION[+OFFSET]`);
  const binary = target.slice(0, i);
  const rest = target.slice(i + 1);
  const num = /^(0x[0-9a-fA-F]+|\d+)$/.exec(rest);
  if (num) return { binary, func: undefined, offset: BigInt(rest) };
  const m = /^([^+]+)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(rest);
  if (!m) throw new Error(`uprobe target "${target}" is not BINARY:FUNCTION[+OFFSET]`);
  return { binary, func: m[1], offset: m[2] ? BigInt(m[2]) : 0n };
}

/**
 * `BINARY:PROVIDER:NAME` (a USDT target, as libbpf reads `SEC("usdt/...")`): the
 * binary may hold colons only before the last two.
 * @throws Error naming the text when it is not of that form
 */
export function parseUsdtTarget(target: string): {
  binary: string;
  provider: string;
  name: string;
} {
  const m = /^(.+):([^:]+):([^:]+)$/.exec(target);
  if (!m) throw new Error(`USDT target "${target}" is not BINARY:PROVIDER:NAME`);
  return { binary: m[1] as string, provider: m[2] as string, name: m[3] as string };
}

/** Hooks that follow from the program type alone, the target coming from the caller. */
const TYPE_HOOKS = new Map<number, AttachHook>([
  [ProgType.SCHED_CLS, { kind: "tc" }],
  [ProgType.SK_LOOKUP, { kind: "netns" }],
  [ProgType.FLOW_DISSECTOR, { kind: "netns" }],
  [ProgType.SK_SKB, { kind: "sockmap" }],
  [ProgType.SK_MSG, { kind: "sockmap" }],
  [ProgType.SOCKET_FILTER, { kind: "socket" }],
  [ProgType.NETFILTER, { kind: "netfilter" }],
]);

/**
 * The hook of a network program whose type says where it goes (tc, netns, sockmap,
 * socket, netfilter), or undefined. sk_skb and sk_msg need their attach type (which
 * sockmap hook) too.
 */
export function typeHook(
  type: number,
  expectedAttachType: number | undefined,
): AttachHook | undefined {
  const hook = TYPE_HOOKS.get(type);
  if (hook?.kind === "sockmap" && expectedAttachType === undefined) return undefined;
  return hook;
}
