/**
 * Programs on a sockmap or sockhash (BPF_PROG_ATTACH with the map as target): sk_skb
 * stream parsers and verdicts (on data arriving at a socket in the map) and sk_msg
 * verdicts (on data a socket in the map sends). One program per attach type and map;
 * the attachment belongs to the map — it ends when the map goes, or when the returned
 * link is closed (BPF_PROG_DETACH).
 *
 * @module
 */
import { AttachType, attachTypeName, MapType, ProgType } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { type Link, newLink } from "./link.ts";
import { expectProgType } from "./link-create.ts";
import { progAttach, progDetach } from "./prog-attach.ts";

/** A sockmap's hooks, and the program type each takes. */
export const SOCKMAP_HOOKS: Readonly<Record<number, number>> = {
  [AttachType.SK_SKB_STREAM_PARSER]: ProgType.SK_SKB,
  [AttachType.SK_SKB_STREAM_VERDICT]: ProgType.SK_SKB,
  [AttachType.SK_SKB_VERDICT]: ProgType.SK_SKB,
  [AttachType.SK_MSG_VERDICT]: ProgType.SK_MSG,
};

/** What a sockmap attachment needs of the map. */
export interface SockmapRef {
  readonly fd: number;
  /** MapType.SOCKMAP or SOCKHASH, when known (checked before the kernel is asked). */
  readonly type?: number;
  readonly name?: string;
}

/**
 * Attaches an sk_skb or sk_msg program to a sockmap or sockhash for `attachType`
 * (AttachType.SK_MSG_VERDICT, SK_SKB_STREAM_VERDICT, SK_SKB_STREAM_PARSER,
 * SK_SKB_VERDICT).
 *
 * @example
 * ```ts
 * using link = attachSockmap(prog, obj.maps.sock_map, AttachType.SK_MSG_VERDICT);
 * ```
 */
export function attachSockmap(prog: Program, map: SockmapRef, attachType: number): Link {
  const hook = attachTypeName(attachType) ?? `attach type ${attachType}`;
  const what = `${map.name ? `map "${map.name}"` : `map fd ${map.fd}`} (${hook})`;
  const progType = SOCKMAP_HOOKS[attachType];
  if (progType === undefined)
    throw new RangeError(
      `${what}: a sockmap takes sk_skb_stream_parser, sk_skb_stream_verdict, sk_skb_verdict or sk_msg_verdict programs`,
    );
  if (map.type !== undefined && map.type !== MapType.SOCKMAP && map.type !== MapType.SOCKHASH)
    throw new TypeError(`${what}: programs attach to a sockmap or sockhash, not this map`);
  expectProgType(prog, [progType], what);
  progAttach(prog, map.fd, attachType, what);
  return newLink({
    description: what,
    noLinkReason: "it was attached with BPF_PROG_ATTACH to the map, which makes no bpf_link",
    cleanup: () => {
      try {
        progDetach(prog, map.fd, attachType, what);
      } catch (e) {
        // Detached already, or the map (or program) closed: nothing of ours is left.
        const code = (e as { code?: string }).code;
        if (code !== "ENOENT" && code !== "EBADF" && code !== "EINVAL") throw e;
      }
    },
  });
}
