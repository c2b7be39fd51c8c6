/**
 * `tsbpf net`: show, attach and detach the programs of network devices, with
 * bpftool's grammar. Each command's module is imported when it runs.
 */
import type { Args } from "../args.ts";
import {
  type Command,
  type Context,
  dispatch,
  HELP_SPEC_OPTIONS,
  HELP_SPEC_PROGRAM,
  printHelp,
} from "../command.ts";

function help(ctx: Context): void {
  const b = `${ctx.bin} net`;
  printHelp(
    ctx,
    `Usage: ${b} { show | list } [dev <devname>]\n` +
      `       ${b} attach ATTACH_TYPE PROG dev <devname> [ overwrite | prepend ]\n` +
      `       ${b} detach ATTACH_TYPE dev <devname>\n` +
      `       ${b} help\n` +
      "\n" +
      `       ${HELP_SPEC_PROGRAM}\n` +
      "       ATTACH_TYPE := { xdp | xdpgeneric | xdpdrv | xdpoffload |\n" +
      "                        tcx_ingress | tcx_egress | tc_ingress | tc_egress }\n" +
      `       ${HELP_SPEC_OPTIONS} }\n` +
      "\n" +
      "Note: Only xdp and tc attachments are supported now.\n" +
      `      For progs attached to cgroups, use "${ctx.bin} cgroup"\n` +
      "      to dump program attachments. For program types\n" +
      "      sk_{filter,skb,msg,reuseport} and lwt/seg6, please\n" +
      "      consult iproute2.\n" +
      "\n" +
      `${ctx.bin}'s own (bpftool 7.1 has none of these):\n` +
      "      tcx_ingress, tcx_egress: BPF_PROG_ATTACH to the device's tcx hook\n" +
      "        (Linux 6.6); 'prepend' puts the program first; detach removes the\n" +
      "        last one no link holds.\n" +
      "      tc_ingress, tc_egress: a direct-action cls_bpf filter named\n" +
      `        "tsbpf:PROG_NAME" under clsact (added when missing); 'overwrite' replaces\n` +
      "        it; detach deletes tsbpf's filters, and clsact once it is empty.\n" +
      "      show: the programs on tcx and netkit hooks (tcx/ingress, tcx/egress,\n" +
      "        netkit/primary, netkit/peer lines, as later bpftool prints them).\n" +
      `      Netfilter programs are links: see "${ctx.bin} link show".\n`,
  );
}

const COMMANDS: readonly Command[] = [
  { name: "show", run: async (c, a) => (await import("./net-show.ts")).showNet(c, a) },
  { name: "list", run: async (c, a) => (await import("./net-show.ts")).showNet(c, a) },
  { name: "attach", run: async (c, a) => (await import("./net-attach.ts")).attachNet(c, a) },
  { name: "detach", run: async (c, a) => (await import("./net-attach.ts")).detachNet(c, a) },
  { name: "help", run: (c) => help(c) },
];

/** Runs `tsbpf net ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
