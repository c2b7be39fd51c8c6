/**
 * `tsbpf cgroup`: show the programs attached to a cgroup or a cgroup tree, attach and
 * detach them with BPF_PROG_ATTACH, with bpftool's grammar. Each command's module is
 * imported when it runs.
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

/** `tsbpf cgroup`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "cgroup",
  summary: "show, attach and detach the BPF programs of cgroups",
  usage: (bin: string) => {
    const b = `${bin} cgroup`;
    return (
      `Usage: ${b} { show | list } CGROUP [**effective**]\n` +
      `       ${b} tree [CGROUP_ROOT] [**effective**]\n` +
      `       ${b} attach CGROUP ATTACH_TYPE PROG [ATTACH_FLAGS]\n` +
      `       ${b} detach CGROUP ATTACH_TYPE PROG\n` +
      `       ${b} help\n` +
      "\n" +
      "       ATTACH_TYPE := { cgroup_inet_ingress | cgroup_inet_egress |\n" +
      "                        cgroup_inet_sock_create | cgroup_sock_ops |\n" +
      "                        cgroup_device | cgroup_inet4_bind |\n" +
      "                        cgroup_inet6_bind | cgroup_inet4_post_bind |\n" +
      "                        cgroup_inet6_post_bind | cgroup_inet4_connect |\n" +
      "                        cgroup_inet6_connect | cgroup_inet4_getpeername |\n" +
      "                        cgroup_inet6_getpeername | cgroup_inet4_getsockname |\n" +
      "                        cgroup_inet6_getsockname | cgroup_udp4_sendmsg |\n" +
      "                        cgroup_udp6_sendmsg | cgroup_udp4_recvmsg |\n" +
      "                        cgroup_udp6_recvmsg | cgroup_sysctl |\n" +
      "                        cgroup_getsockopt | cgroup_setsockopt |\n" +
      "                        cgroup_inet_sock_release | cgroup_unix_connect |\n" +
      "                        cgroup_unix_sendmsg | cgroup_unix_recvmsg |\n" +
      "                        cgroup_unix_getpeername | cgroup_unix_getsockname }\n" +
      "       ATTACH_FLAGS := { multi | override }\n" +
      `       ${HELP_SPEC_PROGRAM}\n` +
      `       ${HELP_SPEC_OPTIONS} |\n` +
      "                    {-f|--bpffs} }\n"
    );
  },
  commands: [
    {
      name: "show",
      summary: "show the programs attached to a cgroup",
      keywords: ["effective"],
      files: true,
    },
    { name: "list", summary: "the same as show", keywords: ["effective"], files: true },
    {
      name: "tree",
      summary: "show the programs attached to every cgroup under a root",
      keywords: ["effective"],
      files: true,
    },
    {
      name: "attach",
      summary: "attach a program to a cgroup",
      keywords: [...PROG_KEYWORDS, "multi", "override"],
      files: true,
    },
    {
      name: "detach",
      summary: "detach a program from a cgroup",
      keywords: PROG_KEYWORDS,
      files: true,
    },
    { name: "help", summary: "print this usage" },
  ],
} as const satisfies ObjectDescription;

const show = async (c: Context, a: Args) => (await import("./cgroup-show.ts")).showCgroup(c, a);

/** cgroup's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  show: show,
  list: show,
  tree: async (c, a) => (await import("./cgroup-show.ts")).showTree(c, a),
  attach: async (c, a) => (await import("./cgroup-attach.ts")).attach(c, a),
  detach: async (c, a) => (await import("./cgroup-attach.ts")).detach(c, a),
  help: helpCommand,
});

/** Runs `tsbpf cgroup ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
