/**
 * The object's BTF as the kernel will take it: kinds this kernel lacks rewritten
 * (src/btf's sanitiser), and externs turned into what BPF_BTF_LOAD accepts, as libbpf
 * does before loading. Two ways: patch the raw bytes (btf-patch.ts) when
 * the kernel knows every kind, else sanitise and re-encode (btf-encode.ts).
 *
 * @module
 */

import type { BTF } from "../../btf/btf.ts";
import type { BTFFeatures } from "../../btf/sanitize.ts";
import { kernelBTFBytes } from "./btf-encode.ts";
import { patchExternsRaw } from "./btf-patch.ts";

/** BTF ready for BPF_BTF_LOAD. */
export interface KernelBTFBlob {
  readonly bytes: Uint8Array;
  /**
   * True when string offsets are those of the object's own `.BTF` (so line_info, which
   * points into its strings, stays valid); false when the blob had to be re-encoded.
   */
  readonly stringsPreserved: boolean;
}

/**
 * The object's BTF for BPF_BTF_LOAD on a kernel with `features`. When the kernel knows
 * every kind, the raw `.BTF` bytes are patched in place (strings and type ids kept, so
 * line info stays valid); otherwise the types are sanitised and re-encoded.
 *
 * @example
 * ```ts
 * const { bytes } = kernelBTF(spec.btf, spec.btfBytes, probeBTFFeatures());
 * ```
 */
export function kernelBTF(
  btf: BTF,
  raw: Uint8Array | undefined,
  features: BTFFeatures,
): KernelBTFBlob {
  const all = Object.values(features).every(Boolean);
  if (all && raw !== undefined) {
    const patched = patchExternsRaw(raw);
    if (patched) return { bytes: patched, stringsPreserved: true };
  }
  return { bytes: kernelBTFBytes(btf, features), stringsPreserved: false };
}
