/**
 * `tsbpf net`: show, attach and detach the programs of network devices, with
 * bpftool's grammar. Each command's module is imported when it runs.
 */
import type { Args } from "../args.ts";
import {
  type Context,
  commandTable,
  dispatch,
  HELP_SPEC_OPTIONS,
  HELP_SPEC_PROGRAM,
  helpCommand,
  type ObjectDescription,
  PROG_KEYWORDS,
} from "../command.ts";

/** `ATTACH_TYPE` of `net attach` and `net detach`. */
const NET_ATTACH_TYPES = [
  "xdp",
  "xdpgeneric",
  "xdpdrv",
  "xdpoffload",
  "tcx_ingress",
  "tcx_egress",
  "tc_ingress",
  "tc_egress",
];

/** `tsbpf net`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "net",
  summary: "show, attach and detach the BPF programs of network devices (XDP, tc, tcx)",
  usage: (bin: string) => {
    const b = `${bin} net`;
    return (
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
      `      For progs attached to cgroups, use "${bin} cgroup"\n` +
      "      to dump program attachments. For program types\n" +
      "      sk_{filter,skb,msg,reuseport} and lwt/seg6, please\n" +
      "      consult iproute2.\n" +
      "\n" +
      `${bin}'s own (bpftool 7.1 has none of these):\n` +
      "      tcx_ingress, tcx_egress: BPF_PROG_ATTACH to the device's tcx hook\n" +
      "        (Linux 6.6); 'prepend' puts the program first; detach removes the\n" +
      "        last one no link holds.\n" +
      "      tc_ingress, tc_egress: a direct-action cls_bpf filter named\n" +
      `        "tsbpf:PROG_NAME" under clsact (added when missing); 'overwrite' replaces\n` +
      "        it; detach deletes tsbpf's filters, and clsact once it is empty.\n" +
      "      show: the programs on tcx and netkit hooks (tcx/ingress, tcx/egress,\n" +
      "        netkit/primary, netkit/peer lines, as later bpftool prints them).\n" +
      `      Netfilter programs are links: see "${bin} link show".\n`
    );
  },
  commands: [
    {
      name: "show",
      summary: "show the programs of every device, or of one",
      keywords: ["dev DEVNAME"],
    },
    { name: "list", summary: "the same as show", keywords: ["dev DEVNAME"] },
    {
      name: "attach",
      summary: "attach a program to a device's hook",
      keywords: [...NET_ATTACH_TYPES, ...PROG_KEYWORDS, "dev DEVNAME", "overwrite", "prepend"],
    },
    {
      name: "detach",
      summary: "detach the program of a device's hook",
      keywords: [...NET_ATTACH_TYPES, "dev DEVNAME"],
    },
    { name: "help", summary: "print this usage" },
  ],
} as const satisfies ObjectDescription;

/** net's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  show: async (c, a) => (await import("./net-show.ts")).showNet(c, a),
  list: async (c, a) => (await import("./net-show.ts")).showNet(c, a),
  attach: async (c, a) => (await import("./net-attach.ts")).attachNet(c, a),
  detach: async (c, a) => (await import("./net-attach.ts")).detachNet(c, a),
  help: helpCommand,
});

/** Runs `tsbpf net ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
