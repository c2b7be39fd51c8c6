/**
 * `tsbpf prog loadall OBJ DIR [type TYPE] [map {idx IDX | name NAME} MAP] [pinmaps MAP_DIR]
 * [autoattach]`: loads every program of an ELF object and pins each under DIR by its
 * name — or, with `autoattach`, attaches each where its SEC() says and pins the link —
 * as `bpftool prog loadall` does. See prog-load-elf.ts.
 */
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import { loadElfObject, parseLoadArgs } from "./prog-load-elf.ts";

/** `prog loadall OBJ DIR ...`. */
export async function loadAllProgs(ctx: Context, args: Args): Promise<void> {
  args.require(2);
  const file = args.next();
  const dir = args.next();
  const opts = parseLoadArgs(args);
  loadElfObject(ctx, { ...opts, file, path: dir, firstOnly: false });
}
