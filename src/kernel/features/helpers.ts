/**
 * "Scanning eBPF helper functions": which helpers may a program of each type call?
 *
 * Each probe loads `call helper#N; r0 = *(u64 *)(r1 + 0); exit` as a program of the
 * type and reads the verifier's answer (the read after the call fails, so no probe is
 * ever JIT-compiled; the answer is decided at the call). The verifier looks the helper up before it checks any argument,
 * and says so in one of three ways when the helper is not there for this type:
 * - `invalid func unknown#N`: the id is beyond this kernel's last helper;
 * - `program of this type cannot use helper bpf_x#N` (Linux 6.x wording);
 * - `unknown func bpf_x#N` (the wording before it).
 * Any other answer (success, or an argument the verifier rejects) means the helper is
 * available. bpftool 7.1 only knows the first and last wordings, which is why it lists
 * every helper for every type on 6.x kernels.
 *
 * Cost: one load per (type, helper), with the verifier log (BPF_LOG_STATS in the scan:
 * the messages without state dumps), since nearly every probe fails and the log decides. Helpers past the kernel's last id are not loaded at all,
 * and neither is any helper of a type the kernel cannot load.
 * @module
 */

import { HelperId, helperName, ProgType } from "../../uapi/index.ts";
import { HELPER_PROBE_IMM_OFFSET, helperProbeProgram } from "./insns.ts";
import { probeHelpersMissing, probeLoad } from "./probe-load.ts";
import { haveProgType, progTypeLabel, progTypeProbe } from "./prog-types.ts";
import { available, cached, type FeatureStatus, unavailable, undetermined } from "./status.ts";

/** Helpers bpftool leaves out unless asked for its "full" scan: loading them logs kernel warnings. */
export const NOISY_HELPERS: ReadonlySet<number> = new Set([
  HelperId.trace_printk,
  HelperId.probe_write_user,
  HelperId.trace_vprintk,
]);

/** The verifier's ways of saying "not for this program type" or "no such helper". */
const MISSING = [
  /invalid func unknown#(\d+)/,
  /program of this type cannot use helper /,
  /unknown func /,
] as const;

/** The last helper id in tsbpf's headers. */
export function lastKnownHelperId(): number {
  return Math.max(...Object.values(HelperId));
}

const program = helperProbeProgram(0);
const programView = new DataView(program.buffer);

function loadCall(progType: number, helper: number): { ok: boolean; log: string } {
  programView.setInt32(HELPER_PROBE_IMM_OFFSET, helper, true);
  const probe = progTypeProbe(progType);
  return probeLoad(progType, program, { ...probe, withLog: true });
}

/**
 * The highest helper id this kernel knows (`__BPF_FUNC_MAX_ID - 1`), found by a few
 * loads of a socket filter: ids past it are `invalid func unknown#N` for every type.
 * Cached.
 */
export function kernelLastHelperId(): number {
  return cached("helper-max", () => {
    const unknown = (id: number) => MISSING[0].test(loadCall(ProgType.SOCKET_FILTER, id).log);
    let hi = lastKnownHelperId();
    if (!unknown(hi)) {
      // A newer kernel may know more than our headers: step past them.
      while (!unknown(hi + 1) && hi < 0x10000) hi++;
      return hi;
    }
    let lo = 0; // helper 0 (unspec) is always "known" to the range check
    // Invariant: lo is known, hi is unknown.
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (unknown(mid)) hi = mid;
      else lo = mid;
    }
    return lo;
  });
}

/**
 * May programs of `progType` call helper `helperId` on this kernel? Cached.
 * `undetermined` when the type attaches through BTF (tracing, lsm, ext, struct_ops):
 * its programs cannot load without a target, so the probe has nothing to ask.
 *
 * @example
 * ```ts
 * haveHelper(ProgType.XDP, HelperId.map_lookup_elem).available; // true
 * haveHelper(ProgType.XDP, HelperId.skb_load_bytes).available; // false
 * ```
 */
export function haveHelper(progType: number, helperId: number): FeatureStatus {
  return cached(`helper:${progType}:${helperId}`, () => probeHelper(progType, helperId));
}

function probeHelper(progType: number, helperId: number): FeatureStatus {
  const name = helperName(helperId) ?? `helper #${helperId}`;
  const typeName = progTypeLabel(progType);
  const feature = `helper ${name} for ${typeName} programs`;
  const typeStatus = haveProgType(progType);
  if (!typeStatus.available) {
    return unavailable(feature, `program type ${typeName} is not available: ${typeStatus.reason}`);
  }
  if (progTypeProbe(progType).noHelperProbe) {
    return undetermined(
      feature,
      `${typeName} programs load only with a BTF attach target, so helpers cannot be probed`,
    );
  }
  const last = kernelLastHelperId();
  if (helperId > last) {
    return unavailable(
      feature,
      `this kernel's helpers end at #${last} (${helperName(last) ?? "?"})`,
    );
  }
  const { ok, log } = loadCall(progType, helperId);
  if (ok) return available(feature);
  for (const re of MISSING) {
    const line = log.split("\n").find((l) => re.test(l));
    if (line) return unavailable(feature, `the verifier says: ${line.trim()}`);
  }
  return available(feature);
}

/** The helpers of one program type, as a scan found them. */
export interface HelperScan {
  readonly progType: number;
  readonly typeName: string;
  /** "probed", or why the helpers of this type were not probed. */
  readonly state: "probed" | "type-unavailable" | "undetermined";
  /** Why, when not probed. */
  readonly reason?: string;
  /** Helpers available to the type, in id order (names with `bpf_`). */
  readonly available: readonly { readonly id: number; readonly name: string }[];
  /** How many helpers were probed. */
  readonly probed: number;
}

/**
 * Probes every helper tsbpf knows for `progType`. `full` includes the helpers that
 * make the kernel log a warning when a program using them loads (bpftool's default
 * leaves them out).
 */
export function scanHelpers(progType: number, opts: { full?: boolean } = {}): HelperScan {
  return cached(`helper-scan:${progType}:${opts.full ? "full" : "default"}`, () =>
    scanHelpersUncached(progType, opts.full ?? false),
  );
}

function scanHelpersUncached(progType: number, full: boolean): HelperScan {
  const opts = { full };
  const typeName = progTypeLabel(progType);
  const typeStatus = haveProgType(progType);
  if (!typeStatus.available) {
    return {
      progType,
      typeName,
      state: "type-unavailable",
      reason: typeStatus.reason ?? "",
      available: [],
      probed: 0,
    };
  }
  if (progTypeProbe(progType).noHelperProbe) {
    return {
      progType,
      typeName,
      state: "undetermined",
      reason: `${typeName} programs load only with a BTF attach target, so helpers cannot be probed`,
      available: [],
      probed: 0,
    };
  }
  // The hot loop (thousands of loads) runs in probe-load.ts over a list of ids.
  const last = Math.min(kernelLastHelperId(), lastKnownHelperId());
  const ids: number[] = [];
  for (let id = 1; id <= last; id++) {
    if (opts.full || !NOISY_HELPERS.has(id as HelperId)) ids.push(id);
  }
  const missing = probeHelpersMissing(progType, ids, progTypeProbe(progType));
  const found: { id: number; name: string }[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (!missing[i]) found.push({ id, name: helperName(id) ?? `#${id}` });
  }
  const probed = ids.length;
  return { progType, typeName, state: "probed", available: found, probed };
}

/**
 * BPF cookies (Linux >= 5.15): whether kprobe and uprobe programs may call
 * bpf_get_attach_cookie, the probe libbpf's FEAT_BPF_COOKIE makes. Decides
 * `LINUX_HAS_BPF_COOKIE` and how USDT probes pass their spec id. Cached.
 */
export function haveBpfCookie(): FeatureStatus {
  const s = haveHelper(ProgType.KPROBE, HelperId.get_attach_cookie);
  return { ...s, feature: "BPF cookies (bpf_get_attach_cookie in kprobe programs)" };
}
