/**
 * `tsbpf map`: show, create, dump and edit maps, with bpftool's grammar (its command
 * order settles abbreviations: `tsbpf map p` is `pin`, `pe` is `peek`).
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
import { CliError } from "../format/output.ts";

function help(ctx: Context): void {
  const b = `${ctx.bin} map`;
  printHelp(
    ctx,
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
      "                    {-f|--bpffs} }\n",
  );
}

const elem = () => import("./map-elem.ts");
const manage = () => import("./map-manage.ts");

const COMMANDS: readonly Command[] = [
  { name: "show", run: async (c, a) => (await import("./map-show.ts")).showMaps(c, a) },
  { name: "list", run: async (c, a) => (await import("./map-show.ts")).showMaps(c, a) },
  { name: "help", run: (c) => help(c) },
  { name: "dump", run: async (c, a) => (await elem()).dumpMap(c, a) },
  { name: "update", run: async (c, a) => (await elem()).updateMap(c, a) },
  { name: "lookup", run: async (c, a) => (await elem()).lookupMap(c, a) },
  { name: "getnext", run: async (c, a) => (await elem()).getnextMap(c, a) },
  { name: "delete", run: async (c, a) => (await elem()).deleteMap(c, a) },
  { name: "pin", run: async (c, a) => (await manage()).pinMap(c, a) },
  {
    name: "event_pipe",
    run: () => {
      throw new CliError("map event_pipe is not supported by tsbpf yet");
    },
  },
  { name: "create", run: async (c, a) => (await manage()).createMap(c, a) },
  { name: "peek", run: async (c, a) => (await elem()).lookupMap(c, a) },
  { name: "push", run: async (c, a) => (await elem()).updateMap(c, a) },
  { name: "enqueue", run: async (c, a) => (await elem()).updateMap(c, a) },
  { name: "pop", run: async (c, a) => (await elem()).popMap(c, a) },
  { name: "dequeue", run: async (c, a) => (await elem()).popMap(c, a) },
  { name: "freeze", run: async (c, a) => (await manage()).freezeMap(c, a) },
];

/** Runs `tsbpf map ...`. */
export async function run(ctx: Context, args: Args): Promise<void> {
  return dispatch(ctx, COMMANDS, args, () => help(ctx));
}
