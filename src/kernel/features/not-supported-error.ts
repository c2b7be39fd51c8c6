/**
 * `NotSupportedError`: the running kernel lacks (or refuses) a feature tsbpf needs.
 * Feature probes return it as their "missing" answer; operations throw it so callers
 * (and tests) can tell "this kernel cannot" from "this call was wrong".
 * @module
 */

import { errnoName } from "../../uapi/index.ts";

/**
 * The kernel does not support, or refuses, `feature`. `message` names the feature and
 * says why (`reason`); `errno` is the kernel's answer when one led to the verdict.
 *
 * @example
 * ```ts
 * try {
 *   program.run({ data });
 * } catch (e) {
 *   if (e instanceof NotSupportedError) test.skip(e.message);
 *   else throw e;
 * }
 * ```
 */
export class NotSupportedError extends Error {
  override readonly name: string = "NotSupportedError";
  /** What is missing, e.g. "program type tracing" or "test run of tracepoint programs". */
  readonly feature: string;
  /** Why, in words: what the kernel answered or which setting rules it out. */
  readonly reason: string;
  /** The errno behind the verdict, if one. */
  readonly errno: number | undefined;
  /** Its name ("EPERM"), if any. */
  readonly code: string | undefined;

  constructor(feature: string, reason: string, errno?: number) {
    super(`${feature} is not supported: ${reason}`);
    this.feature = feature;
    this.reason = reason;
    this.errno = errno;
    this.code = errno === undefined ? undefined : (errnoName(errno) ?? `E${errno}`);
  }
}
