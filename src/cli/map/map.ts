/**
 * `tsbpf map`: show, create, dump and edit maps, with bpftool's grammar (its command
 * order settles abbreviations: `tsbpf map p` is `pin`, `pe` is `peek`).
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
import { CliError } from "../format/output.ts";

/** What may follow a map in `update`: its key and value, in bytes or naming objects. */
const ELEMENT_KEYWORDS = ["key", "value", "hex", ...PROG_KEYWORDS];

/** `tsbpf map`, as data: help, completion and the man page read it. */
export const DESCRIPTION = {
  name: "map",
  summary: "show, create, dump, update and pin BPF maps in the kernel",
  usage: (bin: string) => {
    const b = `${bin} map`;
    return (
      `Usage: ${b} { show | list }   [MAP]\n` +
      `       ${b} create     FILE type TYPE key KEY_SIZE value VALUE_SIZE \\\n` +
      "                                  entries MAX_ENTRIES name NAME [flags FLAGS] \\\n" +
      "                                  [inner_map MAP]\n" +
      `       ${b} dump       MAP\n` +
      `       ${b} update     MAP [key DATA] [value VALUE] [UPDATE_FLAGS]\n` +
      `       ${b} lookup     MAP [key DATA]\n` +
      `       ${b} getnext    MAP [key DATA]\n` +
      `       ${b} delete     MAP  key DATA\n` +
      `       ${b} pin        MAP  FILE\n` +
      `       ${b} peek       MAP\n` +
      `       ${b} push       MAP value VALUE\n` +
      `       ${b} pop        MAP\n` +
      `       ${b} enqueue    MAP value VALUE\n` +
      `       ${b} dequeue    MAP\n` +
      `       ${b} freeze     MAP\n` +
      `       ${b} help\n` +
      "\n" +
      `       ${HELP_SPEC_MAP}\n` +
      "       DATA := { [hex] BYTES }\n" +
      `       ${HELP_SPEC_PROGRAM}\n` +
      "       VALUE := { DATA | MAP | PROG }\n" +
      "       UPDATE_FLAGS := { any | exist | noexist }\n" +
      "       TYPE := { hash | array | prog_array | perf_event_array | percpu_hash |\n" +
      "                 percpu_array | stack_trace | cgroup_array | lru_hash |\n" +
      "                 lru_percpu_hash | lpm_trie | array_of_maps | hash_of_maps |\n" +
      "                 devmap | devmap_hash | sockmap | cpumap | xskmap | sockhash |\n" +
      "                 cgroup_storage | reuseport_sockarray | percpu_cgroup_storage |\n" +
      "                 queue | stack | sk_storage | struct_ops | ringbuf | inode_storage |\n" +
      "                 task_storage | bloom_filter | user_ringbuf | cgrp_storage | arena }\n" +
      `       ${HELP_SPEC_OPTIONS} |\n` +
      "                    {-f|--bpffs} }\n"
    );
  },
  commands: [
    { name: "show", summary: "show maps, or the one MAP names", keywords: MAP_KEYWORDS },
    { name: "list", summary: "the same as show", keywords: MAP_KEYWORDS },
    { name: "help", summary: "print this usage" },
    { name: "dump", summary: "print every entry of a map", keywords: MAP_KEYWORDS },
    {
      name: "update",
      summary: "add or change an entry",
      keywords: [...MAP_KEYWORDS, ...ELEMENT_KEYWORDS, "any", "exist", "noexist"],
    },
    {
      name: "lookup",
      summary: "print the entry of a key",
      keywords: [...MAP_KEYWORDS, "key", "hex"],
    },
    {
      name: "getnext",
      summary: "print the key after a key (the first key without one)",
      keywords: [...MAP_KEYWORDS, "key", "hex"],
    },
    {
      name: "delete",
      summary: "delete the entry of a key",
      keywords: [...MAP_KEYWORDS, "key", "hex"],
    },
    { name: "pin", summary: "pin a map to a bpffs path", keywords: MAP_KEYWORDS, files: true },
    { name: "event_pipe", summary: "read a perf event array", unsupported: true },
    {
      name: "create",
      summary: "create a map and pin it",
      keywords: [
        "type TYPE",
        "key KEY_SIZE",
        "value VALUE_SIZE",
        "entries MAX_ENTRIES",
        "name NAME",
        "flags FLAGS",
        "inner_map",
        ...MAP_KEYWORDS,
      ],
      files: true,
    },
    { name: "peek", summary: "print the head of a queue or stack", keywords: MAP_KEYWORDS },
    {
      name: "push",
      summary: "push a value onto a stack",
      keywords: [...MAP_KEYWORDS, "value", "hex"],
    },
    {
      name: "enqueue",
      summary: "add a value to a queue",
      keywords: [...MAP_KEYWORDS, "value", "hex"],
    },
    { name: "pop", summary: "take the top of a stack", keywords: MAP_KEYWORDS },
    { name: "dequeue", summary: "take the head of a queue", keywords: MAP_KEYWORDS },
    { name: "freeze", summary: "make a map read-only for user space", keywords: MAP_KEYWORDS },
  ],
} as const satisfies ObjectDescription;

const elem = () => import("./map-elem.ts");
const manage = () => import("./map-manage.ts");

/** map's dispatch table, built from {@link DESCRIPTION}. */
export const COMMANDS = commandTable(DESCRIPTION, {
  show: async (c, a) => (await import("./map-show.ts")).showMaps(c, a),
  list: async (c, a) => (await import("./map-show.ts")).showMaps(c, a),
  help: helpCommand,
  dump: async (c, a) => (await elem()).dumpMap(c, a),
  update: async (c, a) => (await elem()).updateMap(c, a),
  lookup: async (c, a) => (await elem()).lookupMap(c, a),
  getnext: async (c, a) => (await elem()).getnextMap(c, a),
  delete: async (c, a) => (await elem()).deleteMap(c, a),
  pin: async (c, a) => (await manage()).pinMap(c, a),
  event_pipe: () => {
    throw new CliError("map event_pipe is not supported by tsbpf yet");
  },
  create: async (c, a) => (await manage()).createMap(c, a),
  peek: async (c, a) => (await elem()).lookupMap(c, a),
  push: async (c, a) => (await elem()).updateMap(c, a),
  enqueue: async (c, a) => (await elem()).updateMap(c, a),
  pop: async (c, a) => (await elem()).popMap(c, a),
  dequeue: async (c, a) => (await elem()).popMap(c, a),
  freeze: async (c, a) => (await manage()).freezeMap(c, a),
});

/** Runs `tsbpf map ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, DESCRIPTION);
}
