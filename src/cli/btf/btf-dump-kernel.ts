/**
 * The sources of `tsbpf btf dump` that live in the kernel: a BTF object by id, a map's
 * or a program's BTF. Imported only for them, so that `btf dump file` never loads the
 * syscall layer (koffi and the kernel backend: ~15 ms of a whole-process dump).
 *
 * @module
 */

import { type BTF, parseBTF } from "../../btf/index.ts";
import { btfInfoById } from "../../kernel/btf/btf-info.ts";
import { KernelBTF } from "../../kernel/btf/kernel-btf.ts";
import { BpfMap } from "../../kernel/maps/map.ts";
import { programInfoByFd } from "../../kernel/programs/prog-info.ts";
import type { Fd } from "../../kernel/sys/index.ts";
import { type Args, isPrefix } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, exitForErrno, UsageError } from "../format/output.ts";
import { errnoOf, openMap, openProg, reason } from "../objects/selectors.ts";
import { identifyProg } from "../prog/prog-pin.ts";
import type { Source } from "./btf-dump.ts";

/**
 * bpftool's btf_is_kernel_module: a failure is reported and counts as "no" (loading
 * the BTF then fails with its own error, as in bpftool).
 */
export function isKernelModule(ctx: Context, id: number): boolean {
  let info: ReturnType<typeof btfInfoById>;
  try {
    info = btfInfoById(id);
  } catch (e) {
    ctx.out.error(`can't get BTF object by id (${id}): ${reason(e)}`);
    return false;
  }
  if (!info) {
    ctx.out.error(`can't get BTF object by id (${id}): No such file or directory`);
    return false;
  }
  return info.kernelBtf && info.name !== "vmlinux";
}

/** The BTF object `id`, split on `base` when given. */
export function btfFromKernel(id: number, base: BTF | undefined): BTF {
  let k: KernelBTF | undefined;
  try {
    k = KernelBTF.fromId(id);
    if (!k) throw Object.assign(new Error("No such file or directory"), { errno: 2 });
    // The kernel checked these bytes when it took them in.
    return parseBTF(k.bytes(), base ? { base, kernelChecked: true } : { kernelChecked: true });
  } catch (e) {
    throw new CliError(`get btf by id (${id}): ${reason(e)}`, exitForErrno(errnoOf(e)));
  } finally {
    k?.close();
  }
}

export function fromMap(args: Args): Source {
  if (args.count < 2) throw new UsageError(`'map' needs at least 2 arguments, ${args.count} found`);
  const fd = openMap(args);
  let info: ReturnType<BpfMap["info"]>;
  try {
    const map = BpfMap.fromFd(fd);
    try {
      info = map.info();
    } finally {
      map.close();
    }
  } catch (e) {
    fd.close();
    throw new CliError(`can't get map info: ${reason(e)}`);
  }
  const key = info.btfKeyTypeId;
  const value = info.btfValueTypeId;
  let roots = [key, value];
  const w = args.peek();
  if (w !== undefined) {
    if (isPrefix(w, "key")) roots = [key];
    else if (isPrefix(w, "value")) roots = [value];
    else if (isPrefix(w, "all")) roots = [];
    else if (!isPrefix(w, "kv")) return { btfId: info.btfId, roots };
    args.skip();
  }
  return { btfId: info.btfId, roots };
}

export function fromProg(args: Args): Source {
  if (args.count < 2) {
    throw new UsageError(`'prog' needs at least 2 arguments, ${args.count} found`);
  }
  const fd: Fd = openProg(args, identifyProg);
  try {
    return { btfId: programInfoByFd(fd.value).btfId, roots: [] };
  } catch (e) {
    throw new CliError(`can't get prog info: ${reason(e)}`);
  } finally {
    fd.close();
  }
}
