/**
 * Finding what a BTF-attached program attaches to: fentry/fexit/fmod_ret and LSM
 * programs name a kernel function, tp_btf programs a raw tracepoint; the kernel wants
 * the BTF type id of that function (or of the tracepoint's `btf_trace_*` typedef) in
 * vmlinux's BTF as `attach_btf_id`.
 * @module
 */

import type { ProgramSpec } from "../../spec/program-spec.ts";
import { AttachType, ProgType } from "../../uapi/index.ts";
import { btfInfoById } from "../btf/btf-info.ts";
import {
  KernelBTF,
  moduleBTF,
  moduleBTFNames,
  SYSFS_BTF_DIR,
  vmlinuxBTF,
} from "../btf/kernel-btf.ts";
import { btfIds } from "../objects/objects.ts";

const VMLINUX_BTF = `${SYSFS_BTF_DIR}/vmlinux`;

/**
 * The BTF name a program of `spec`'s type and attach type looks up for `attachTo`:
 * `btf_trace_<name>` (a typedef) for tp_btf, `bpf_lsm_<name>` for LSM hooks,
 * `bpf_iter_<name>` for iterators, the function itself otherwise. Undefined when the spec does not attach through BTF.
 */
export function attachBtfName(spec: Pick<ProgramSpec, "type" | "expectedAttachType" | "attachTo">):
  | {
      name: string;
      kind: "FUNC" | "TYPEDEF";
    }
  | undefined {
  if (!spec.attachTo) return undefined;
  if (spec.type === ProgType.LSM) return { name: `bpf_lsm_${spec.attachTo}`, kind: "FUNC" };
  if (spec.type !== ProgType.TRACING) return undefined;
  if (spec.expectedAttachType === AttachType.TRACE_RAW_TP) {
    return { name: `btf_trace_${spec.attachTo}`, kind: "TYPEDEF" };
  }
  // Iterators: libbpf's BTF_ITER_PREFIX, the kernel's bpf_iter_<target> function.
  if (spec.expectedAttachType === AttachType.TRACE_ITER) {
    return { name: `bpf_iter_${spec.attachTo}`, kind: "FUNC" };
  }
  return { name: spec.attachTo, kind: "FUNC" };
}

/**
 * `attach_btf_id` for a tracing or LSM spec that names its target in `attachTo` (and
 * has no `attachBtfId` yet), from vmlinux BTF; undefined when the spec needs none.
 * @throws Error naming the target when vmlinux BTF has no such function or tracepoint.
 */
export function resolveAttachBtfId(
  spec: Pick<ProgramSpec, "type" | "expectedAttachType" | "attachTo" | "attachBtfId">,
): number | undefined {
  if (spec.attachBtfId !== undefined) return spec.attachBtfId;
  return resolveAttachTarget(spec)?.id;
}

/** Where a BTF-attached program's target is: its type id, and the module when not vmlinux. */
export interface AttachTarget {
  readonly id: number;
  /** The kernel module whose split BTF holds the target (fentry on a module function). */
  readonly module?: string;
}

/**
 * The target of a tracing or LSM spec naming it in `attachTo`: in vmlinux BTF, or for
 * fentry/fexit/fmod_ret, in a loaded module's BTF (/sys/kernel/btf/MODULE), as libbpf
 * looks it up. Undefined when the spec needs none.
 * @throws Error naming the target when neither vmlinux nor a module has it.
 */
export function resolveAttachTarget(
  spec: Pick<ProgramSpec, "type" | "expectedAttachType" | "attachTo">,
): AttachTarget | undefined {
  const target = attachBtfName(spec);
  if (!target) return undefined;
  const find = (types: ReturnType<typeof vmlinuxBTF>) =>
    types.findAllByName(target.name).find((t) => t.kind === target.kind);
  const found = find(vmlinuxBTF());
  if (found) return { id: found.id };
  const moduleFunc =
    spec.type === ProgType.TRACING &&
    target.kind === "FUNC" &&
    spec.expectedAttachType !== AttachType.TRACE_ITER;
  if (moduleFunc) {
    for (const name of moduleBTFNames()) {
      let inModule: ReturnType<typeof find>;
      try {
        inModule = find(moduleBTF(name));
      } catch {
        continue; // unloaded meanwhile, or BTF this parser refuses: not the target
      }
      if (inModule) return { id: inModule.id, module: name };
    }
  }
  throw new Error(
    `cannot attach to "${spec.attachTo}": ${VMLINUX_BTF} has no ${target.kind === "FUNC" ? "function" : "typedef"} named ${target.name}${moduleFunc ? ", nor has any loaded module's BTF" : ""}`,
  );
}

/**
 * Opens the kernel's BTF object of module `name` (for `attach_btf_obj_fd`).
 * @throws Error when no loaded BTF object has that name.
 */
export function openModuleBTF(name: string): KernelBTF {
  for (const id of btfIds()) {
    if (btfInfoById(id)?.name !== name) continue;
    const btf = KernelBTF.fromId(id);
    if (btf) return btf;
  }
  throw new Error(`no BTF object of kernel module "${name}" is loaded`);
}
