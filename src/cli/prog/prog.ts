/**
 * `tsbpf prog`: show, dump xlated, load, attach, run and pin programs, with bpftool's grammar.
 * Each command's module is imported when it runs.
 */
import type { Args } from "../args.ts";
import {
  type Command,
  type Context,
  dispatch,
  HELP_SPEC_MAP,
  HELP_SPEC_OPTIONS,
  HELP_SPEC_PROGRAM,
  printHelp,
} from "../command.ts";

function help(ctx: Context): void {
  const b = `${ctx.bin} prog`;
  printHelp(
    ctx,
    `Usage: ${b} { show | list } [PROG]\n` +
      `       ${b} dump xlated PROG [{ file FILE | opcodes | linum }]\n` +
      `       ${b} pin   PROG FILE\n` +
      `       ${b} { load | loadall } OBJ PATH \\\n` +
      "                         [type TYPE] [map { idx IDX | name NAME } MAP] \\\n" +
      "                         [pinmaps MAP_DIR]\n" +
      "                         [autoattach]\n" +
      `       ${b} load  FILE PATH [type TYPE]\n` +
      `       ${b} load  CASE.json [log_level N]\n` +
      `       ${b} attach PROG ATTACH_TYPE [MAP]\n` +
      `       ${b} detach PROG ATTACH_TYPE [MAP]\n` +
      `       ${b} run PROG \\\n` +
      "                         data_in FILE \\\n" +
      "                         [data_out FILE [data_size_out L]] \\\n" +
      "                         [ctx_in FILE [ctx_out FILE [ctx_size_out M]]] \\\n" +
      "                         [repeat N]\n" +
      `       ${b} tracelog\n` +
      `       ${b} help\n` +
      "\n" +
      `       ${HELP_SPEC_MAP}\n` +
      `       ${HELP_SPEC_PROGRAM}\n` +
      "       OBJ := { ELF object file (clang -target bpf) }\n" +
      "       FILE := { raw instructions (8 bytes each) | assembly text }\n" +
      "       CASE.json := { a program as data: prog_type, insns (hex), maps, ... }\n" +
      "       TYPE := { socket | kprobe | kretprobe | classifier | action | tracepoint |\n" +
      "                 raw_tracepoint | xdp | perf_event | cgroup/skb | cgroup/sock |\n" +
      "                 cgroup/dev | lwt_in | lwt_out | lwt_xmit | lwt_seg6local |\n" +
      "                 sockops | sk_skb | sk_msg | lirc_mode2 | sk_reuseport |\n" +
      "                 flow_dissector | cgroup/sysctl | cgroup/bind4 | cgroup/bind6 |\n" +
      "                 cgroup/post_bind4 | cgroup/post_bind6 | cgroup/connect4 |\n" +
      "                 cgroup/connect6 | cgroup/getpeername4 | cgroup/getpeername6 |\n" +
      "                 cgroup/getsockname4 | cgroup/getsockname6 | cgroup/sendmsg4 |\n" +
      "                 cgroup/sendmsg6 | cgroup/recvmsg4 | cgroup/recvmsg6 |\n" +
      "                 cgroup/getsockopt | cgroup/setsockopt | cgroup/sock_release |\n" +
      "                 sk_lookup | syscall | netfilter | PROGRAM_TYPE_NAME }\n" +
      "       ATTACH_TYPE := { sk_msg_verdict | sk_skb_verdict | sk_skb_stream_verdict |\n" +
      "                        sk_skb_stream_parser | flow_dissector }\n" +
      `       ${HELP_SPEC_OPTIONS} |\n` +
      "                    {-f|--bpffs} }\n",
  );
}

const COMMANDS: readonly Command[] = [
  { name: "show", run: async (c, a) => (await import("./prog-show.ts")).showProgs(c, a) },
  { name: "list", run: async (c, a) => (await import("./prog-show.ts")).showProgs(c, a) },
  { name: "help", run: (c) => help(c) },
  { name: "dump", run: async (c, a) => (await import("./prog-dump.ts")).dumpProg(c, a) },
  { name: "pin", run: async (c, a) => (await import("./prog-pin.ts")).pinProg(c, a) },
  { name: "load", run: async (c, a) => (await import("./prog-load.ts")).loadProg(c, a) },
  { name: "loadall", run: async (c, a) => (await import("./prog-loadall.ts")).loadAllProgs(c, a) },
  { name: "attach", run: async (c, a) => (await import("./prog-attach.ts")).attachProg(c, a) },
  { name: "detach", run: async (c, a) => (await import("./prog-attach.ts")).detachProg(c, a) },
  { name: "run", run: async (c, a) => (await import("./prog-run.ts")).runProg(c, a) },
  {
    name: "tracelog",
    run: async (c, a) => (await import("./prog-tracelog.ts")).traceLog(c, a),
  },
];

/** Runs `tsbpf prog ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
