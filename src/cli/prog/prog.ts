/**
 * `tsbpf prog`: show, dump xlated, load, attach, run and pin programs, with bpftool's grammar.
 * Each command's module is imported when it runs.
 */
import type { Args } from "../args.ts";
import {
  type Context,
  commandTable,
  dispatch,
  HELP_SPEC_MAP,
  HELP_SPEC_OPTIONS,
  HELP_SPEC_PROGRAM,
  helpCommand,
  MAP_KEYWORDS,
  type ObjectDescription,
  PROG_KEYWORDS,
} from "../command.ts";

/** `ATTACH_TYPE` of `prog attach` and `prog detach`. */
const ATTACH_TYPES = [
  "sk_msg_verdict",
  "sk_skb_verdict",
  "sk_skb_stream_verdict",
  "sk_skb_stream_parser",
  "flow_dissector",
];

/** `tsbpf prog`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "prog",
  summary: "inspect, load, attach, run and pin BPF programs in the kernel",
  usage: (bin: string) => {
    const b = `${bin} prog`;
    return (
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
      "                    {-f|--bpffs} }\n"
    );
  },
  commands: [
    { name: "show", summary: "show loaded programs", keywords: PROG_KEYWORDS },
    { name: "list", summary: "the same as show", keywords: PROG_KEYWORDS },
    { name: "help", summary: "print this usage" },
    {
      name: "dump",
      summary: "dump a program's instructions (xlated), with line info",
      keywords: ["xlated", "jited", ...PROG_KEYWORDS, "file FILE", "opcodes", "linum", "visual"],
    },
    { name: "pin", summary: "pin a program to a bpffs path", keywords: PROG_KEYWORDS, files: true },
    {
      name: "load",
      summary: "load a program from an ELF object, instructions or a JSON case, and pin it",
      keywords: [
        "type TYPE",
        "map",
        "idx IDX",
        "name NAME",
        "pinmaps MAP_DIR",
        "autoattach",
        "log_level N",
      ],
      files: true,
    },
    {
      name: "loadall",
      summary: "load every program of an ELF object and pin them under a directory",
      keywords: ["type TYPE", "map", "idx IDX", "name NAME", "pinmaps MAP_DIR", "autoattach"],
      files: true,
    },
    {
      name: "attach",
      summary: "attach a program to a map (sockmap, flow dissector)",
      keywords: [...PROG_KEYWORDS, ...ATTACH_TYPES, ...MAP_KEYWORDS],
    },
    {
      name: "detach",
      summary: "detach a program from a map",
      keywords: [...PROG_KEYWORDS, ...ATTACH_TYPES, ...MAP_KEYWORDS],
    },
    {
      name: "run",
      summary: "run a program once or more with BPF_PROG_TEST_RUN",
      keywords: [
        ...PROG_KEYWORDS,
        "data_in FILE",
        "data_out FILE",
        "data_size_out L",
        "ctx_in FILE",
        "ctx_out FILE",
        "ctx_size_out M",
        "repeat N",
      ],
    },
    { name: "tracelog", summary: "print the kernel's trace pipe (bpf_trace_printk)" },
  ],
} as const satisfies ObjectDescription;

/** prog's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  show: async (c, a) => (await import("./prog-show.ts")).showProgs(c, a),
  list: async (c, a) => (await import("./prog-show.ts")).showProgs(c, a),
  help: helpCommand,
  dump: async (c, a) => (await import("./prog-dump.ts")).dumpProg(c, a),
  pin: async (c, a) => (await import("./prog-pin.ts")).pinProg(c, a),
  load: async (c, a) => (await import("./prog-load.ts")).loadProg(c, a),
  loadall: async (c, a) => (await import("./prog-loadall.ts")).loadAllProgs(c, a),
  attach: async (c, a) => (await import("./prog-attach.ts")).attachProg(c, a),
  detach: async (c, a) => (await import("./prog-attach.ts")).detachProg(c, a),
  run: async (c, a) => (await import("./prog-run.ts")).runProg(c, a),
  tracelog: async (c, a) => (await import("./prog-tracelog.ts")).traceLog(c, a),
});

/** Runs `tsbpf prog ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
