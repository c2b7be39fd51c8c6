/**
 * `tsbpf cgroup attach CGROUP ATTACH_TYPE PROG [multi|override]` and `tsbpf cgroup
 * detach CGROUP ATTACH_TYPE PROG`: BPF_PROG_ATTACH and BPF_PROG_DETACH, checked in
 * bpftool's order (words, cgroup, attach type, program, flags) with its messages.
 * Where bpftool only says "failed to attach program", tsbpf adds the cause. In
 * exclusive and override mode the kernel's detach takes off whichever program is
 * there; tsbpf detaches only the program named (bpftool would detach another).
 */
import { closeSync, openSync } from "node:fs";
import { attachCgroupPersistent, detachCgroup } from "../../kernel/links/cgroup.ts";
import type { AttachMode } from "../../kernel/links/prog-attach.ts";
import { Program } from "../../kernel/programs/program.ts";
import { SyscallError } from "../../kernel/sys/index.ts";
import { type Args, isPrefix } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { openProg, reason } from "../objects/selectors.ts";
import { identifyProg } from "../prog/prog-pin.ts";
import { parseAttachType } from "./attach-type-names.ts";

/** The cgroup, attach type and program of attach/detach, checked as bpftool does. */
function operands(args: Args, command: string): { path: string; type: number; prog: Program } {
  if (args.count < 4) throw new CliError(`too few parameters for cgroup ${command}`);
  const path = args.next();
  // bpftool opens the cgroup first: a missing one is reported before anything else.
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    throw new CliError(`can't open cgroup ${path}`);
  }
  closeSync(fd);
  const type = parseAttachType(args.next());
  if (type === undefined) throw new CliError("invalid attach type");
  return { path, type, prog: Program.fromFd(openProg(args, identifyProg)) };
}

/** Why the kernel refused, in words: its errno and, where tsbpf can tell, the cause. */
function cause(e: unknown): string {
  if (e instanceof SyscallError) {
    const prefix = `${e.operation}: `;
    return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : reason(e);
  }
  return e instanceof Error ? e.message : String(e);
}

/** `cgroup attach`. */
export async function attach(ctx: Context, args: Args): Promise<void> {
  const { path, type, prog } = operands(args, "attach");
  try {
    let multi = false;
    let override = false;
    while (args.count > 0) {
      const w = args.next();
      if (isPrefix(w, "multi")) multi = true;
      else if (isPrefix(w, "override")) override = true;
      else throw new CliError(`unknown option: ${w}`);
    }
    if (multi && override) {
      throw new CliError(
        "failed to attach program: multi and override do not go together (a cgroup's programs for a type are either several, or one that may be overridden)",
      );
    }
    const mode: AttachMode = multi ? "multi" : override ? "override" : "exclusive";
    try {
      attachCgroupPersistent(prog, path, type, { mode });
    } catch (e) {
      throw new CliError(`failed to attach program: ${cause(e)}`);
    }
  } finally {
    prog.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}

/** `cgroup detach`. */
export async function detach(ctx: Context, args: Args): Promise<void> {
  const { path, type, prog } = operands(args, "detach");
  try {
    detachCgroup(prog, path, type);
  } catch (e) {
    throw new CliError(`failed to detach program: ${cause(e)}`);
  } finally {
    prog.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}
