/**
 * `tsbpf prog attach PROG ATTACH_TYPE [MAP]` and `tsbpf prog detach PROG ATTACH_TYPE [MAP]`:
 * BPF_PROG_ATTACH / BPF_PROG_DETACH of sk_skb and sk_msg programs on a sockmap or
 * sockhash, and of flow_dissector programs on the current network namespace, as
 * bpftool 7.1 does them. The attachment belongs to its target (the map, the
 * namespace): it outlives the command until detached.
 *
 * bpftool's failures and exit statuses are kept: a missing word is
 * "'WORD' needs at least N arguments, M found" and an unknown type "invalid
 * attach/detach type" (both exit 234, bpftool's -EINVAL), a kernel refusal "failed
 * prog attach to map" / "failed prog detach from map" (234); a PROG or MAP that
 * cannot be opened fails as any selector does (255).
 */
import { progAttach, progDetach } from "../../kernel/links/prog-attach.ts";
import { mapInfoByFd } from "../../kernel/maps/map-info.ts";
import { Program } from "../../kernel/programs/program.ts";
import { type Fd, SyscallError } from "../../kernel/sys/index.ts";
import { AttachType, attachTypeName, Errno } from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, exitForErrno } from "../format/output.ts";
import { openMap, openProg } from "../objects/selectors.ts";
import { identifyProg } from "./prog-pin.ts";

/** bpftool's exit status for these commands' own failures (its `return -EINVAL`). */
const EXIT_EINVAL = exitForErrno(Errno.EINVAL);

/**
 * The attach types `prog attach` takes, in `enum bpf_attach_type` order (which settles
 * which older name an abbreviation picks), each with the name bpftool kept from before
 * libbpf named them (any prefix of it is accepted; libbpf's name only in full).
 */
const ATTACH_TYPES: readonly { type: number; legacy?: string }[] = [
  { type: AttachType.SK_SKB_STREAM_PARSER, legacy: "stream_parser" },
  { type: AttachType.SK_SKB_STREAM_VERDICT, legacy: "stream_verdict" },
  { type: AttachType.SK_MSG_VERDICT, legacy: "msg_verdict" },
  { type: AttachType.FLOW_DISSECTOR },
  { type: AttachType.SK_SKB_VERDICT, legacy: "skb_verdict" },
];

/**
 * The attach type `word` names (`sk_msg_verdict`, or an abbreviation of `msg_verdict`),
 * or undefined.
 */
export function parseAttachType(word: string): number | undefined {
  for (const { type, legacy } of ATTACH_TYPES) {
    if (attachTypeName(type) === word) return type;
    if (legacy?.startsWith(word)) return type;
  }
  return undefined;
}

/** bpftool's REQ_ARGS(n), failing with its -EINVAL status. */
function requireWords(args: Args, n: number): void {
  if (args.count < n) {
    throw new CliError(
      `'${args.previous}' needs at least ${n} arguments, ${args.count} found`,
      EXIT_EINVAL,
    );
  }
}

/** What both commands act on: the program, the attach type and the target's descriptor. */
interface Parsed {
  readonly prog: Program;
  readonly attachType: number;
  /** The sockmap, or undefined for flow_dissector (the current network namespace). */
  readonly map: Fd | undefined;
}

/** bpftool's parse_attach_detach_args; the caller closes what it returns. */
function parseArgs(args: Args): Parsed {
  requireWords(args, 3);
  const fd = openProg(args, identifyProg);
  let prog: Program;
  try {
    prog = Program.fromFd(fd);
  } catch (e) {
    fd.close();
    throw e;
  }
  try {
    const word = args.peek();
    const attachType = word === undefined ? undefined : parseAttachType(word);
    if (attachType === undefined) throw new CliError("invalid attach/detach type", EXIT_EINVAL);
    // Words after flow_dissector, or after the MAP, are ignored (as bpftool does).
    if (attachType === AttachType.FLOW_DISSECTOR) return { prog, attachType, map: undefined };
    args.skip();
    requireWords(args, 2);
    return { prog, attachType, map: openMap(args) };
  } catch (e) {
    prog.close();
    throw e;
  }
}

/** Where the attachment goes, for error messages of the kernel layer. */
function targetName(parsed: Parsed): string {
  if (!parsed.map) return "this network namespace";
  const { id, name, typeName } = mapInfoByFd(parsed.map.value);
  return `${typeName} ${id}${name ? ` "${name}"` : ""}`;
}

/** `prog attach PROG ATTACH_TYPE [MAP]`. */
export function attachProg(ctx: Context, args: Args): void {
  const parsed = parseArgs(args);
  try {
    // flow_dissector: target fd 0, which the kernel reads as the caller's namespace.
    progAttach(parsed.prog, parsed.map?.value ?? 0, parsed.attachType, targetName(parsed));
  } catch (e) {
    throw kernelRefused("failed prog attach to map", e, ctx);
  } finally {
    parsed.prog.close();
    parsed.map?.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}

/** `prog detach PROG ATTACH_TYPE [MAP]`. */
export function detachProg(ctx: Context, args: Args): void {
  const parsed = parseArgs(args);
  try {
    progDetach(parsed.prog, parsed.map?.value ?? 0, parsed.attachType, targetName(parsed));
  } catch (e) {
    throw kernelRefused("failed prog detach from map", e, ctx);
  } finally {
    parsed.prog.close();
    parsed.map?.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}

/**
 * bpftool's message for a refused attach or detach; with `-d`, the kernel's reason
 * (errno and what was asked) follows on stderr, which bpftool never says.
 */
function kernelRefused(message: string, e: unknown, ctx: Context): unknown {
  if (!(e instanceof SyscallError)) return e;
  if (ctx.opts.debug) ctx.out.stderr(`${e.message}\n`);
  return new CliError(message, EXIT_EINVAL);
}
