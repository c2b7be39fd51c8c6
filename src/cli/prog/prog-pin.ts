/** `tsbpf prog pin PROG FILE`. */
import { programInfoByFd } from "../../kernel/programs/prog-info.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { pinAt, requirePinArgs } from "../objects/pin-path.ts";
import { openProg } from "../objects/selectors.ts";
import { progFullName } from "./prog-btf.ts";

/** The name and tag a PROG selector matches against. */
export function identifyProg(fd: { value: number }): { name: string; tag: string } {
  const info = programInfoByFd(fd.value);
  return { name: progFullName(info), tag: info.tag };
}

/** bpftool's do_pin for programs. */
export async function pinProg(ctx: Context, args: Args): Promise<void> {
  requirePinArgs(args);
  const fd = openProg(args, identifyProg);
  try {
    pinAt(fd.value, args.next());
  } finally {
    fd.close();
  }
  if (ctx.out.json) ctx.out.value(null);
}
