/**
 * `tsbpf cgroup`: show the programs attached to a cgroup or a cgroup tree, attach and
 * detach them with BPF_PROG_ATTACH, with bpftool's grammar. Each command's module is
 * imported when it runs.
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
  const b = `${ctx.bin} cgroup`;
  printHelp(
    ctx,
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
      "                    {-f|--bpffs} }\n",
  );
}

const show = async (c: Context, a: Args) => (await import("./cgroup-show.ts")).showCgroup(c, a);

const COMMANDS: readonly Command[] = [
  { name: "show", run: show },
  { name: "list", run: show },
  { name: "tree", run: async (c, a) => (await import("./cgroup-show.ts")).showTree(c, a) },
  { name: "attach", run: async (c, a) => (await import("./cgroup-attach.ts")).attach(c, a) },
  { name: "detach", run: async (c, a) => (await import("./cgroup-attach.ts")).detach(c, a) },
  { name: "help", run: (c) => help(c) },
];

/** Runs `tsbpf cgroup ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
