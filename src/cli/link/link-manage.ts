/** `tsbpf link pin LINK FILE` and `tsbpf link detach LINK`. */

import { BpfCall } from "../../kernel/sys/index.ts";
import { BpfCmd, bpfAttr } from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { pinAt, requirePinArgs } from "../objects/pin-path.ts";
import { reason } from "../objects/selectors.ts";
import { openLink } from "./link-select.ts";

/** bpftool's do_pin for links. */
export async function pinLink(ctx: Context, args: Args): Promise<void> {
  requirePinArgs(args);
  const fd = openLink(args);
  try {
    pinAt(fd.value, args.next());
  } finally {
    fd.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}

/** bpftool's do_detach: BPF_LINK_DETACH; its failures exit with status 1. */
export async function detachLink(ctx: Context, args: Args): Promise<void> {
  if (args.count !== 2) throw new CliError("link specifier is invalid or missing\n", 1);
  const fd = openLink(args, 1);
  try {
    const call = new BpfCall(BpfCmd.LINK_DETACH, bpfAttr.linkDetach);
    call.u32("link_fd", fd.value);
    try {
      call.invoke("link detach");
    } catch (e) {
      throw new CliError(`failed link detach: ${reason(e)}`, 1);
    }
  } finally {
    fd.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}
