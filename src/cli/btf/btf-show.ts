/**
 * `tsbpf btf { show | list } [id BTF_ID]`: the kernel's BTF objects with the programs
 * and maps that use them, as bpftool prints them.
 *
 * @module
 */

import { type BtfInfo, btfInfoByFd } from "../../kernel/btf/btf-info.ts";
import { objInfoByFd } from "../../kernel/objects/obj-info.ts";
import type { Fd } from "../../kernel/sys/index.ts";
import { bpfMapInfo, bpfProgInfo, type StructLayout } from "../../uapi/index.ts";
import { type Args, parseU32 } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { openById, openEachObject, reason } from "../objects/selectors.ts";
import { showAll } from "../objects/show-objects.ts";
import { btfJson, btfPlain } from "./format-btf.ts";

/**
 * libbpf's hashmap as bpftool fills it (HASHMAP_APPEND, the key as its own hash), kept
 * only to list object ids in bpftool's order: each insert goes to the head of its
 * bucket, and every growth re-inserts the entries bucket by bucket — so ids of one BTF
 * come out newest first, or in another order once the table has grown.
 */
class LibbpfMultimap {
  #bits = 0;
  #size = 0;
  #buckets: { key: number; value: number }[][] = [];

  static #hash(key: number, bits: number): number {
    if (bits === 0) return 0;
    const h = (BigInt(key) * 11400714819323198485n) & 0xffffffffffffffffn;
    return Number(h >> BigInt(64 - bits));
  }

  append(key: number, value: number): void {
    const cap = this.#buckets.length;
    if (cap === 0 || Math.floor(((this.#size + 1) * 4) / 3) > cap) {
      const bits = Math.max(this.#bits + 1, 2);
      const grown: { key: number; value: number }[][] = Array.from({ length: 1 << bits }, () => []);
      for (const bucket of this.#buckets) {
        for (const e of bucket) grown[LibbpfMultimap.#hash(e.key, bits)]?.unshift(e);
      }
      this.#bits = bits;
      this.#buckets = grown;
    }
    this.#buckets[LibbpfMultimap.#hash(key, this.#bits)]?.unshift({ key, value });
    this.#size++;
  }

  /** The values under `key`, in hashmap__for_each_key_entry's order. */
  get(key: number): number[] {
    if (this.#buckets.length === 0) return [];
    const bucket = this.#buckets[LibbpfMultimap.#hash(key, this.#bits)] ?? [];
    return bucket.filter((e) => e.key === key).map((e) => e.value);
  }
}

/** BTF id → ids of the programs (or maps) that use it, in bpftool's order. */
function usersByBtf(kind: "prog" | "map", layout: StructLayout): LibbpfMultimap {
  const table = new LibbpfMultimap();
  const btfOff = layout.fields.btf_id?.offset;
  if (btfOff === undefined) return table;
  for (const { id, fd } of openEachObject(kind)) {
    try {
      const btfId = objInfoByFd(fd.value, layout).getUint32(btfOff, true);
      if (!btfId) continue;
      table.append(btfId, id);
    } catch (e) {
      throw new CliError(`can't get ${kind} info: ${reason(e)}`);
    } finally {
      fd.close();
    }
  }
  return table;
}

function openBtf(args: Args): Fd {
  if (!args.is("id")) throw new CliError(`expected 'id', got: '${args.peek()}'?`);
  args.skip();
  const w = args.next();
  const id = parseU32(w);
  if (id === undefined) throw new CliError(`can't parse ${w} as ID`);
  return openById("btf", id, "can't get BTF object by id");
}

export async function showBtf(ctx: Context, args: Args): Promise<void> {
  const single = args.count === 2 ? openBtf(args) : undefined;
  try {
    args.end();
    const progs = usersByBtf("prog", bpfProgInfo);
    const maps = usersByBtf("map", bpfMapInfo);
    const showOne = (fd: Fd) => {
      let info: BtfInfo;
      try {
        info = btfInfoByFd(fd.value);
      } catch (e) {
        throw new CliError(`can't get BTF object info: ${reason(e)}`);
      }
      const view = { info, progIds: progs.get(info.id), mapIds: maps.get(info.id) };
      if (ctx.out.json) btfJson(ctx.out.w, view);
      else ctx.out.write(btfPlain(view));
    };
    if (single) {
      showOne(single);
      return;
    }
    showAll(ctx, "btf", "BTF object", showOne);
  } finally {
    single?.close();
  }
}
