/**
 * Control flow for the wasm target: a program's basic blocks, reverse postorder,
 * dominators, loop headers and merge nodes — what the translation to WebAssembly's
 * structured `block`/`loop`/`br` needs (Norman Ramsey, "Beyond Relooper", ICFP 2022:
 * every reducible CFG translates without a dispatch loop). An irreducible CFG (a loop
 * entered other than through its head) is reported, and the program stays with the
 * JS target.
 *
 * Pure: no `node:` imports.
 * @module
 */

/** A basic block: slots `[start, end)`, its successors (deduplicated), its RPO number. */
export interface CfgBlock {
  readonly start: number;
  readonly end: number;
  readonly succs: number[];
  /** Reverse-postorder number (0 for the entry), -1 when unreachable from slot 0. */
  rpo: number;
}

/** The analysed control flow of the blocks reachable from block 0. */
export interface Cfg {
  /** Blocks by index, in slot order (index 0 starts at slot 0). */
  readonly blocks: CfgBlock[];
  /** Block indexes in reverse postorder (reachable blocks only). */
  readonly order: number[];
  /** Immediate dominator of each reachable block (the entry's is itself), -1 otherwise. */
  readonly idom: Int32Array;
  /** Whether a back edge targets the block. */
  readonly loopHeader: Uint8Array;
  /** Whether the block has two or more forward in-edges. */
  readonly merge: Uint8Array;
  /** Dominator-tree children of each block that are merge nodes, latest (highest RPO) first. */
  readonly mergeChildren: number[][];
  /** An edge that leaves the graph irreducible, as "from -> to" slots, when one does. */
  readonly irreducible: string | undefined;
}

/**
 * Analyses blocks whose successors are block indexes. Iterative throughout (programs of
 * 100,000 instructions would overflow a recursive walk).
 */
export function analyse(blocks: CfgBlock[]): Cfg {
  const nb = blocks.length;
  // Depth-first postorder from block 0, with an explicit stack.
  const post: number[] = [];
  const state = new Uint8Array(nb); // 0 new, 1 on stack, 2 done
  const next = new Int32Array(nb);
  const stack: number[] = [0];
  state[0] = 1;
  while (stack.length > 0) {
    const b = stack[stack.length - 1]!;
    const succs = blocks[b]!.succs;
    if (next[b]! < succs.length) {
      const s = succs[next[b]!++]!;
      if (state[s] === 0) {
        state[s] = 1;
        stack.push(s);
      }
    } else {
      state[b] = 2;
      post.push(b);
      stack.pop();
    }
  }
  const order = post.reverse();
  for (const b of blocks) b.rpo = -1;
  order.forEach((b, i) => {
    blocks[b]!.rpo = i;
  });
  const preds: number[][] = blocks.map(() => []);
  for (const b of order) for (const s of blocks[b]!.succs) preds[s]!.push(b);
  // Dominators (Cooper, Harvey and Kennedy's iterative algorithm over RPO).
  const idom = new Int32Array(nb).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (blocks[a]!.rpo > blocks[b]!.rpo) a = idom[a]!;
      while (blocks[b]!.rpo > blocks[a]!.rpo) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 1; i < order.length; i++) {
      const b = order[i]!;
      let d = -1;
      for (const p of preds[b]!) {
        if (idom[p] === -1) continue;
        d = d === -1 ? p : intersect(p, d);
      }
      if (d !== -1 && idom[b] !== d) {
        idom[b] = d;
        changed = true;
      }
    }
  }
  const dominates = (a: number, b: number): boolean => {
    for (;;) {
      if (a === b) return true;
      if (b === 0) return false;
      b = idom[b]!;
    }
  };
  const loopHeader = new Uint8Array(nb);
  const forwardIn = new Int32Array(nb);
  let irreducible: string | undefined;
  for (const b of order) {
    for (const s of blocks[b]!.succs) {
      if (blocks[s]!.rpo <= blocks[b]!.rpo) {
        if (!dominates(s, b)) irreducible ??= `${blocks[b]!.start} -> ${blocks[s]!.start}`;
        loopHeader[s] = 1;
      } else forwardIn[s]!++;
    }
  }
  const merge = new Uint8Array(nb);
  for (const b of order) if (forwardIn[b]! >= 2) merge[b] = 1;
  const mergeChildren: number[][] = blocks.map(() => []);
  for (let i = 1; i < order.length; i++) {
    const b = order[i]!;
    if (merge[b]) mergeChildren[idom[b]!]!.push(b);
  }
  for (const c of mergeChildren) c.sort((x, y) => blocks[y]!.rpo - blocks[x]!.rpo);
  return { blocks, order, idom, loopHeader, merge, mergeChildren, irreducible };
}
