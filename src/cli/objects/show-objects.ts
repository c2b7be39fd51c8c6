/**
 * The `show|list` loop bpftool runs for programs, maps, links and BTF: the objects a
 * selector names, or every object of the kind in id order (skipping those gone since
 * their id was seen), each read and printed plain or as JSON — a JSON array around a
 * whole listing, and around a selection only when it matched several — with `-f`'s
 * pinned paths.
 */
import type { ObjectKind } from "../../kernel/objects/objects.ts";
import type { Fd } from "../../kernel/sys/index.ts";
import type { Args } from "../args.ts";
import type { Context } from "../command.ts";
import type { JsonWriter } from "../format/json-writer.ts";
import { CliError } from "../format/output.ts";
import { pinnedPaths } from "./pinned-paths.ts";
import { closeAll, openEachObject, reason } from "./selectors.ts";

/** How `show` reads and prints one kind of object. */
export interface ShowKind<Info, View> {
  /** The kind, as bpftool names it in errors (`can't get prog info: ...`). */
  readonly kind: "prog" | "map" | "link";
  /** The objects a selector (`id N`, `pinned PATH`, ...) names; the caller closes them. */
  select(args: Args): Fd[];
  /** The kernel's info about one object. */
  info(fd: Fd): Info;
  /** What is printed, from the info (and `-f`'s id → pinned paths table). */
  view(fd: Fd, info: Info, pins: Map<number, string[]> | undefined): View;
  /** Prints the view as one JSON object. */
  json(w: JsonWriter, view: View): void;
  /** The view as plain text. */
  plain(view: View): string;
}

/** `OBJECT show|list [SELECTOR]` for programs, maps and links. */
export function showObjects<Info, View>(ctx: Context, args: Args, how: ShowKind<Info, View>): void {
  const pins = ctx.opts.bpffs ? pinnedPaths(how.kind) : undefined;
  const showOne = (fd: Fd): void => {
    let info: Info;
    try {
      info = how.info(fd);
    } catch (e) {
      throw new CliError(`can't get ${how.kind} info: ${reason(e)}`);
    }
    const view = how.view(fd, info, pins);
    if (ctx.out.json) how.json(ctx.out.w, view);
    else ctx.out.write(how.plain(view));
  };
  if (args.count === 2) {
    showSelected(ctx, how.select(args), showOne);
    return;
  }
  args.end();
  showAll(ctx, how.kind, how.kind, showOne);
}

/**
 * Shows the objects a selector matched (in a JSON array only when there are several,
 * as bpftool), then closes them.
 */
export function showSelected(ctx: Context, fds: readonly Fd[], showOne: (fd: Fd) => void): void {
  try {
    if (ctx.out.json && fds.length > 1) ctx.out.w.startArray();
    for (const fd of fds) showOne(fd);
    if (ctx.out.json && fds.length > 1) ctx.out.w.endArray();
  } finally {
    closeAll(fds);
  }
}

/**
 * Shows every object of `kind` in id order (a JSON array in JSON mode), each opened
 * only while it is shown. `label` names the kind in errors ("BTF object").
 */
export function showAll(
  ctx: Context,
  kind: ObjectKind,
  label: string,
  showOne: (fd: Fd) => void,
): void {
  if (ctx.out.json) ctx.out.w.startArray();
  for (const { fd } of openEachObject(kind, label)) {
    try {
      showOne(fd);
    } finally {
      fd.close();
    }
  }
  if (ctx.out.json) ctx.out.w.endArray();
}
