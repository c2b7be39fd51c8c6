/**
 * The shape every feature probe answers with, and the cache that makes each probe run
 * once per process.
 * @module
 */

import { errnoName } from "../../uapi/index.ts";
import { NotSupportedError } from "./not-supported-error.ts";

/** A probe's answer: is `feature` there, and if not, why. */
export interface FeatureStatus {
  /** What was probed, e.g. "program type xdp", "helper bpf_map_lookup_elem for xdp". */
  readonly feature: string;
  /** True when the kernel has it. */
  readonly available: boolean;
  /** Why it is missing (or a note on an available one). */
  readonly reason?: string;
  /** The errno that decided, if one did. */
  readonly errno?: number;
  /** True when the probe could not decide (`available` is then false). */
  readonly undetermined?: boolean;
}

/** An available feature. */
export function available(feature: string, reason?: string): FeatureStatus {
  return reason === undefined ? { feature, available: true } : { feature, available: true, reason };
}

/** A missing feature and why. */
export function unavailable(feature: string, reason: string, errno?: number): FeatureStatus {
  return errno === undefined
    ? { feature, available: false, reason }
    : { feature, available: false, reason, errno };
}

/** A feature the probe could not decide on. */
export function undetermined(feature: string, reason: string): FeatureStatus {
  return { feature, available: false, reason, undetermined: true };
}

/** `EPERM (Operation not permitted)`-style words for an errno. */
export function errnoWords(errno: number): string {
  return errnoName(errno) ?? `errno ${errno}`;
}

/**
 * Throws a {@link NotSupportedError} when `status` says the feature is missing.
 * @example
 * ```ts
 * requireFeature(haveProgType(ProgType.XDP));
 * ```
 */
export function requireFeature(status: FeatureStatus): void {
  if (!status.available) {
    throw new NotSupportedError(
      status.feature,
      status.reason ?? "the kernel lacks it",
      status.errno,
    );
  }
}

const cache = new Map<string, unknown>();

/** Runs `probe` once per `key` for the life of the process. */
export function cached<T>(key: string, probe: () => T): T {
  if (cache.has(key)) return cache.get(key) as T;
  const value = probe();
  cache.set(key, value);
  return value;
}

/** Forgets every cached probe result (tests, benchmarks). */
export function clearFeatureCache(): void {
  cache.clear();
}
