/**
 * Refusing `SEC()` forms newer than tsbpf's uapi. libbpf's table has forms
 * (`fsession`, `fentry.multi`, ...) whose attach type the uapi tsbpf was generated
 * from (Linux 6.18) has no name for; the SEC() table keeps them with a `requires`
 * note instead of an expected attach type. Loading or attaching such a program
 * throws a {@link NotSupportedError} that names the form and the attach type, before
 * anything reaches the kernel.
 *
 * @module
 */

import type { SectionRequirement } from "../../spec/attach.ts";
import type { ProgramSpec } from "../../spec/program-spec.ts";
import { vmlinuxBTF } from "../btf/kernel-btf.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";

/**
 * What the form of `spec`'s section needs that tsbpf's uapi lacks (the ELF loader's
 * attach descriptor says), or undefined when the spec is loadable as far as its
 * section says (no descriptor, a form the uapi knows, or an expected attach type set
 * by hand).
 */
export function unsupportedSectionForm(
  spec: Pick<ProgramSpec, "attach" | "expectedAttachType">,
): { form: string; requires: SectionRequirement } | undefined {
  const unsupported = spec.attach?.unsupported;
  if (unsupported === undefined || spec.expectedAttachType !== undefined) return undefined;
  return { form: spec.attach?.form ?? "", requires: unsupported };
}

/**
 * Throws a {@link NotSupportedError} when `spec`'s section is a form this uapi has no
 * attach type for. `action` ("loading", "attaching") goes into the message. Whether
 * the running kernel's BTF knows the attach type decides the reason given.
 *
 * @example
 * ```ts
 * assertSectionSupported(spec, "loading"); // SEC("fentry.multi/vfs_*") throws
 * ```
 */
export function assertSectionSupported(spec: ProgramSpec, action: string): void {
  const found = unsupportedSectionForm(spec);
  if (!found) return;
  const { form, requires } = found;
  const known = requires.value === undefined ? "" : ` (${requires.value} in libbpf's uapi)`;
  const inKernel = kernelAttachType(requires.attachType);
  const reason =
    inKernel === undefined
      ? `the running kernel's uapi has no attach type ${requires.attachType}${known} for it (its BTF's enum bpf_attach_type ${kernelLastAttachType()}), so no program of this form can load here`
      : `tsbpf's uapi (generated from Linux 6.18) has no attach type ${requires.attachType}, although the running kernel has it (= ${inKernel}); tsbpf cannot load or attach this form yet`;
  throw new NotSupportedError(
    `${action} program "${spec.name}" in SEC("${spec.section}") (libbpf form ${form}, attach type ${requires.attachType})`,
    reason,
  );
}

function attachTypeEnum(): readonly { name: string; value: number | bigint }[] | undefined {
  try {
    const t = vmlinuxBTF()
      .findAllByName("bpf_attach_type")
      .find((x) => x.kind === "ENUM" || x.kind === "ENUM64");
    return t && (t.kind === "ENUM" || t.kind === "ENUM64") ? t.values : undefined;
  } catch {
    return undefined; // no vmlinux BTF: say what the uapi lacks without the kernel's view
  }
}

function kernelAttachType(name: string): number | undefined {
  const v = attachTypeEnum()?.find((x) => x.name === name);
  return v === undefined ? undefined : Number(v.value);
}

function kernelLastAttachType(): string {
  const values = attachTypeEnum()?.filter((x) => !x.name.startsWith("__"));
  const last = values?.at(-1);
  return last === undefined ? "could not be read" : `ends at ${last.name} = ${last.value}`;
}
