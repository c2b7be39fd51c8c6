/**
 * `-f`/`--bpffs`: which paths on every mounted bpf filesystem pin which object
 * (bpftool's build_pinned_obj_table). Files that are not pins, or pins of another kind,
 * are skipped; unreadable directories are skipped too.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fdKind } from "../../kernel/objects/fd-kind.ts";
import { objInfoByFd } from "../../kernel/objects/obj-info.ts";
import { openPinned } from "../../kernel/objects/pin.ts";
import { bpfLinkInfo, bpfMapInfo, bpfProgInfo, type StructLayout } from "../../uapi/index.ts";

const LAYOUTS: Record<"prog" | "map" | "link", StructLayout> = {
  prog: bpfProgInfo,
  map: bpfMapInfo,
  link: bpfLinkInfo,
};

/** Mount points of every bpf filesystem, from /proc/mounts. */
export function bpffsMounts(): string[] {
  let text: string;
  try {
    text = readFileSync("/proc/mounts", "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const [, dir, type] = line.split(" ");
    // bpftool matches the type by its first three letters, as we do.
    if (dir && type?.startsWith("bpf")) out.push(dir.replace(/\\040/g, " "));
  }
  return out;
}

function* files(dir: string): Generator<string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(dir, name);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) yield* files(p);
    else if (st.isFile()) yield p;
  }
}

/** Object id → the paths that pin it, for objects of `kind`. */
export function pinnedPaths(kind: "prog" | "map" | "link"): Map<number, string[]> {
  const table = new Map<number, string[]>();
  const layout = LAYOUTS[kind];
  const idOffset = layout.fields.id?.offset ?? 4;
  for (const mount of bpffsMounts()) {
    for (const path of files(mount)) {
      let fd: ReturnType<typeof openPinned>;
      try {
        fd = openPinned(path);
      } catch {
        continue;
      }
      try {
        if (fdKind(fd.value) !== kind) continue;
        const id = objInfoByFd(fd.value, layout).getUint32(idOffset, true);
        const list = table.get(id);
        if (list) list.push(path);
        else table.set(id, [path]);
      } catch {
        // not readable: skip, as bpftool does
      } finally {
        fd.close();
      }
    }
  }
  return table;
}

/**
 * The `pinned` list a show command prints for `id`: undefined when `-f` was not given
 * or nothing of this kind is pinned anywhere (bpftool then omits the field), otherwise
 * the paths (possibly none).
 */
export function pinnedFor(
  table: Map<number, string[]> | undefined,
  id: number,
): readonly string[] | undefined {
  if (!table || table.size === 0) return undefined;
  return table.get(id) ?? [];
}
