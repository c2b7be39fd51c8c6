/**
 * What a collection load has created so far — maps, programs, the object's BTF, pins,
 * global-data mappings — so that a failure at any stage can undo it all, and so that
 * the loaded Collection owns exactly these.
 * @module
 */
import { unlinkSync } from "node:fs";
import type { KernelBTF } from "../btf/kernel-btf.ts";
import type { BpfMap } from "../maps/map.ts";
import type { Program } from "../programs/program.ts";
import type { GlobalDataMemory } from "./variables.ts";

/** What the load created, so a failure can undo it. */
export class Resources {
  /** Maps by spec name (created here, borrowed replacements, or reused pins). */
  readonly maps = new Map<string, BpfMap>();
  /** The caller's replacement maps: never closed here. */
  readonly borrowed = new Set<BpfMap>();
  /** Pinned maps that existed before this load (their slots are left as they are). */
  readonly reused = new Set<BpfMap>();
  readonly programs = new Map<string, Program>();
  /** Pins this load made (removed again when it fails). */
  readonly pinnedHere: string[] = [];
  readonly memories: GlobalDataMemory[] = [];
  btf: KernelBTF | undefined;
  closed = false;

  close(unpin: boolean): void {
    if (this.closed) return;
    this.closed = true;
    for (const m of this.memories) m.close();
    for (const p of this.programs.values()) p.close();
    for (const m of this.maps.values()) if (!this.borrowed.has(m)) m.close();
    this.btf?.close();
    if (unpin) {
      for (const path of this.pinnedHere) {
        try {
          unlinkSync(path);
        } catch {}
      }
    }
  }
}
