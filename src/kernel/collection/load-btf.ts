/**
 * Load stage 1, the object's BTF: sanitised for this kernel and loaded once. A kernel
 * that refuses it gets maps and programs without BTF, as libbpf falls back.
 * @module
 */
import type { CollectionSpec } from "../../spec/collection-spec.ts";
import { KernelBTF, probeBTFFeatures } from "../btf/kernel-btf.ts";
import { SyscallError } from "../sys/index.ts";
import { kernelBTF } from "./object-btf.ts";
import type { Resources } from "./resources.ts";

/** What the later stages need to know of the object's BTF in the kernel. */
export interface ObjectBTF {
  /** The loaded BTF's descriptor, or undefined when there is none (none in the object, or refused). */
  readonly fd: number | undefined;
  /** False when sanitising rewrote the strings, so line info offsets no longer hold. */
  readonly lineInfoValid: boolean;
}

/** Loads the object's BTF into `res.btf`. */
export function loadObjectBTF(spec: CollectionSpec, objectName: string, res: Resources): ObjectBTF {
  if (!spec.btf) return { fd: undefined, lineInfoValid: true };
  try {
    const blob = kernelBTF(spec.btf, spec.btfBytes, probeBTFFeatures());
    res.btf = KernelBTF.load(blob.bytes, {
      what: objectName ? `object "${objectName}"` : "the object",
    });
    return { fd: res.btf.fd, lineInfoValid: blob.stringsPreserved };
  } catch (e) {
    // As libbpf: when the kernel refuses the object's BTF (an older kernel, even after
    // sanitising), load without it — maps and programs that need it then fail with
    // the kernel's own reason. Anything else is a bug to report, not to hide.
    if (!(e instanceof SyscallError)) throw e;
    res.btf = undefined;
    return { fd: undefined, lineInfoValid: true };
  }
}
