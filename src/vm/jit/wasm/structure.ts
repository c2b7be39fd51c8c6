/**
 * Control flow for the wasm target: a program's basic blocks, reverse postorder,
 * dominators, loop headers and merge nodes — what the translation to WebAssembly's
 * structured `block`/`loop`/`br` needs (Norman Ramsey, "Beyond Relooper", ICFP 2022:
 * every reducible CFG translates without a dispatch loop). An irreducible CFG (a loop
 * entered other than through its head) is reported, and the program stays with the
 * JS target.
 *
 * Blocks are numbered 0..n-1 and every table is a typed array indexed by block (or a
 * list in compressed rows: `start[b]..start[b + 1]`): the compile time of a program of
 * 100,000 instructions is mostly this analysis, and arrays of small arrays cost it
 * allocations and garbage collection.
 *
 * The arrays are the compile's scratch (scratch.ts): valid until the next compile.
 *
 * Pure: no `node:` imports.
 * @module
 */

import { scratchI32, scratchU8 } from "./scratch.ts";

/** Basic blocks: at most two successors each (a jump's target, then its fall-through). */
export interface CfgEdges {
  /** Number of blocks. */
  readonly n: number;
  /** First successor of each block, -1 for none. */
  readonly succ0: Int32Array;
  /** Second successor (distinct from the first), -1 for none. */
  readonly succ1: Int32Array;
}

/** Lists by block in compressed rows: block b's entries are `list[start[b]..start[b + 1]]`. */
export interface Rows {
  readonly start: Int32Array;
  readonly list: Int32Array;
}

/** The analysed control flow of the blocks reachable from block 0. */
export interface Cfg {
  /** Block indexes in reverse postorder (reachable blocks only). */
  readonly order: Int32Array;
  /** Reverse-postorder number of each block (0 for the entry), -1 when unreachable. */
  readonly rpo: Int32Array;
  /** Predecessors of each block that are reachable, in the order of `order`. */
  readonly preds: Rows;
  /** Immediate dominator of each reachable block (the entry's is itself), -1 otherwise. */
  readonly idom: Int32Array;
  /** Whether a back edge targets the block. */
  readonly loopHeader: Uint8Array;
  /** Whether any block is a loop header. */
  readonly loops: boolean;
  /** Whether the block has two or more forward in-edges. */
  readonly merge: Uint8Array;
  /** Dominator-tree children of each block that are merge nodes, latest (highest RPO) first. */
  readonly mergeChildren: Rows;
  /** An edge that leaves the graph irreducible, as block indexes "from -> to", when one does. */
  readonly irreducible: readonly [number, number] | undefined;
}

/** Fills rows from (key, value) pairs given in the order each row should list them. */
function rows(n: number, keys: Int32Array, values: Int32Array, count: number): Rows {
  const start = scratchI32(n + 1);
  for (let i = 0; i < count; i++) start[keys[i]! + 1]!++;
  for (let b = 0; b < n; b++) start[b + 1]! += start[b]!;
  const at = scratchI32(n);
  at.set(start.subarray(0, n));
  const list = scratchI32(count);
  for (let i = 0; i < count; i++) list[at[keys[i]!]!++] = values[i]!;
  return { start, list };
}

/**
 * Analyses the blocks' edges. Iterative throughout (programs of 100,000 instructions
 * would overflow a recursive walk).
 */
export function analyse(g: CfgEdges): Cfg {
  const { n, succ0, succ1 } = g;
  // Depth-first postorder from block 0, with an explicit stack; `next` is how many of
  // a block's successors the walk has taken.
  const post = scratchI32(n);
  let posts = 0;
  const state = scratchU8(n); // 0 new, 1 on stack, 2 done
  const next = scratchU8(n);
  const stack = scratchI32(n);
  let top = 0;
  stack[top++] = 0;
  state[0] = 1;
  while (top > 0) {
    const b = stack[top - 1]!;
    const k = next[b]!;
    const s = k === 0 ? succ0[b]! : k === 1 ? succ1[b]! : -1;
    if (k < 2) next[b] = k + 1;
    if (s >= 0) {
      if (state[s] === 0) {
        state[s] = 1;
        stack[top++] = s;
      }
    } else if (k >= 1) {
      // Both successors taken (a block without a first has no second).
      state[b] = 2;
      post[posts++] = b;
      top--;
    }
  }
  const order = scratchI32(posts);
  for (let i = 0; i < posts; i++) order[i] = post[posts - 1 - i]!;
  const rpo = scratchI32(n, -1);
  for (let i = 0; i < posts; i++) rpo[order[i]!] = i;
  // Predecessors, in the order of `order`.
  const ek = scratchI32(2 * posts);
  const ev = scratchI32(2 * posts);
  let edges = 0;
  for (let i = 0; i < posts; i++) {
    const b = order[i]!;
    if (succ0[b]! >= 0) {
      ek[edges] = succ0[b]!;
      ev[edges++] = b;
    }
    if (succ1[b]! >= 0) {
      ek[edges] = succ1[b]!;
      ev[edges++] = b;
    }
  }
  const preds = rows(n, ek, ev, edges);
  // Dominators (Cooper, Harvey and Kennedy's iterative algorithm over RPO).
  const idom = scratchI32(n, -1);
  idom[0] = 0;
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 1; i < posts; i++) {
      const b = order[i]!;
      let d = -1;
      for (let e = preds.start[b]!; e < preds.start[b + 1]!; e++) {
        let p = preds.list[e]!;
        if (idom[p] === -1) continue;
        if (d === -1) {
          d = p;
          continue;
        }
        // Intersect: walk both up the tree to their common dominator.
        while (p !== d) {
          while (rpo[p]! > rpo[d]!) p = idom[p]!;
          while (rpo[d]! > rpo[p]!) d = idom[d]!;
        }
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
  const loopHeader = scratchU8(n);
  const forwardIn = scratchI32(n);
  let loops = false;
  let irreducible: [number, number] | undefined;
  for (let i = 0; i < posts; i++) {
    const b = order[i]!;
    for (let k = 0; k < 2; k++) {
      const s = k === 0 ? succ0[b]! : succ1[b]!;
      if (s < 0) continue;
      if (rpo[s]! <= i) {
        if (irreducible === undefined && !dominates(s, b)) irreducible = [b, s];
        loopHeader[s] = 1;
        loops = true;
      } else forwardIn[s]!++;
    }
  }
  const merge = scratchU8(n);
  // Merge children by dominator, latest first: walk the order backwards.
  const mk = scratchI32(posts);
  const mv = scratchI32(posts);
  let merges = 0;
  for (let i = posts - 1; i >= 1; i--) {
    const b = order[i]!;
    if (forwardIn[b]! < 2) continue;
    merge[b] = 1;
    mk[merges] = idom[b]!;
    mv[merges++] = b;
  }
  const mergeChildren = rows(n, mk, mv, merges);
  return { order, rpo, preds, idom, loopHeader, loops, merge, mergeChildren, irreducible };
}
