/**
 * The capabilities this process holds (CapEff of /proc/self/status), for permission
 * checks and for explaining an EPERM: root in a container or a systemd unit often runs
 * without some of them (here CAP_SYS_RESOURCE was missing), and the kernel then refuses
 * some BPF objects to root.
 * @module
 */

import { readFileSync } from "node:fs";

/** Capability numbers from linux/capability.h that BPF work depends on. */
export const Capability = {
  NET_ADMIN: 12,
  SYS_ADMIN: 21,
  SYS_RESOURCE: 24,
  PERFMON: 38,
  BPF: 39,
} as const;

/** The name of a capability in {@link Capability}, e.g. `CAP_BPF`. */
export type CapabilityName = `CAP_${keyof typeof Capability}`;

/** The effective capability set, or undefined when /proc does not say (not Linux). */
export function effectiveCapabilities(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

/** True when the process holds `cap` (a number from {@link Capability}). */
export function hasCapability(cap: number, caps = effectiveCapabilities()): boolean {
  return caps !== undefined && ((caps >> BigInt(cap)) & 1n) === 1n;
}

/** The BPF-related capabilities this process lacks, by name (empty when it has them all). */
export function missingCapabilities(caps = effectiveCapabilities()): CapabilityName[] {
  if (caps === undefined) return [];
  return (Object.entries(Capability) as [keyof typeof Capability, number][])
    .filter(([, n]) => !hasCapability(n, caps))
    .map(([name]) => `CAP_${name}` as const);
}

/**
 * Words that explain an EPERM seen by this process, to follow "refused ... with EPERM":
 * not root, root without some capabilities, or root with all of them (then a security
 * policy or the kernel's build decided).
 */
export function epermExplanation(caps = effectiveCapabilities()): string {
  if (process.geteuid?.() !== 0 && !hasCapability(Capability.BPF, caps)) {
    return "not running as root (or with CAP_BPF)";
  }
  const missing = missingCapabilities(caps);
  const set = caps === undefined ? "" : ` (CapEff ${caps.toString(16).padStart(16, "0")})`;
  return missing.length > 0
    ? `although tsbpf runs as root: this process lacks ${missing.join(", ")}${set}, as in a container or a service that drops capabilities`
    : `although tsbpf runs as root with every BPF-related capability${set}: a security policy (LSM, lockdown) or the kernel's build refuses it`;
}
