/**
 * Which stack slots of the running function are live before each instruction: some path
 * from there may read the slot before writing all of it. Linux 6.18 answers this from
 * the accesses its verifier records as it walks (kernel/bpf/liveness.c), and a state
 * kept at a checkpoint then compares only live slots; tsbpf does the same, more simply:
 *
 * - each instruction's reads ("use") are the union over the paths that ran it, and its
 *   writes of whole slots ("def") the intersection (what it writes on every path);
 * - liveness is the usual backward data flow over the function's instructions, redone
 *   when those sets changed since it was last asked for.
 *
 * Why this is sound for pruning: a checkpoint used to prune is one whose paths have all
 * been walked, so every read those paths made is already in "use", and "def" can only
 * be smaller than what they wrote; an instruction none of them ran adds nothing. Calls
 * of functions and callbacks count as reading every slot (their frames may read the
 * caller's stack through pointers); only the top frame's slots are ever left out.
 * @module
 */

/** The slots of one frame (64 of 8 bytes: 512 bytes) as two 32-bit masks. */
const ALL = 0xffffffff;

export class StackLiveness {
  private readonly use: Uint32Array;
  private readonly def: Uint32Array;
  private readonly seen: Uint8Array;
  private readonly live: Uint32Array;
  private dirty = true;
  /** The instruction being run and the whole slots it wrote so far. */
  private pc = -1;
  private wroteLo = 0;
  private wroteHi = 0;

  constructor(private readonly succ: readonly (readonly number[])[]) {
    const n = succ.length;
    this.use = new Uint32Array(2 * n);
    this.def = new Uint32Array(2 * n);
    this.seen = new Uint8Array(n);
    this.live = new Uint32Array(2 * n + 2);
  }

  /** An instruction starts running (the one before it has finished). */
  begin(pc: number): void {
    this.end();
    this.pc = pc;
    this.wroteLo = 0;
    this.wroteHi = 0;
  }

  /** It read (or may read) slots `from`..`to` (indices, inclusive) of its own frame. */
  read(from: number, to: number): void {
    let lo = 0;
    let hi = 0;
    for (let i = Math.max(0, from); i <= Math.min(63, to); i++)
      if (i < 32) lo |= 1 << i;
      else hi |= 1 << (i - 32);
    this.addUse(lo >>> 0, hi >>> 0);
  }

  /** It may read any slot of its own frame (a call, a callback). */
  readAll(): void {
    this.addUse(ALL, ALL);
  }

  /** It wrote all 8 bytes of slot `spi` of its own frame. */
  wrote(spi: number): void {
    if (spi < 32) this.wroteLo = (this.wroteLo | (1 << spi)) >>> 0;
    else if (spi < 64) this.wroteHi = (this.wroteHi | (1 << (spi - 32))) >>> 0;
  }

  /** The instruction finished: what it wrote this time narrows what it always writes. */
  end(): void {
    const pc = this.pc;
    if (pc < 0) return;
    const lo = this.seen[pc] ? (this.def[2 * pc] as number) & this.wroteLo : this.wroteLo;
    const hi = this.seen[pc] ? (this.def[2 * pc + 1] as number) & this.wroteHi : this.wroteHi;
    if (!this.seen[pc] || lo !== this.def[2 * pc] || hi !== this.def[2 * pc + 1]) {
      this.def[2 * pc] = lo;
      this.def[2 * pc + 1] = hi;
      this.dirty = true;
    }
    this.seen[pc] = 1;
    this.pc = -1;
  }

  /** Whether slot `spi` of the running function may be read from `pc` on. */
  isLive(pc: number, spi: number): boolean {
    if (spi >= 64) return true;
    if (this.dirty) this.solve();
    const w = this.live[2 * pc + (spi < 32 ? 0 : 1)] as number;
    return ((w >>> (spi % 32)) & 1) === 1;
  }

  private addUse(lo: number, hi: number): void {
    const i = 2 * this.pc;
    if (i < 0) return;
    const a = ((this.use[i] as number) | lo) >>> 0;
    const b = ((this.use[i + 1] as number) | hi) >>> 0;
    if (a !== this.use[i] || b !== this.use[i + 1]) {
      this.use[i] = a;
      this.use[i + 1] = b;
      this.dirty = true;
    }
  }

  private solve(): void {
    const n = this.succ.length;
    const { use, def, live } = this;
    for (let changed = true; changed; ) {
      changed = false;
      for (let pc = n - 1; pc >= 0; pc--) {
        let lo = 0;
        let hi = 0;
        for (const t of this.succ[pc] as number[]) {
          lo |= live[2 * t] as number;
          hi |= live[2 * t + 1] as number;
        }
        lo = ((use[2 * pc] as number) | (lo & ~(def[2 * pc] as number))) >>> 0;
        hi = ((use[2 * pc + 1] as number) | (hi & ~(def[2 * pc + 1] as number))) >>> 0;
        if (lo !== live[2 * pc] || hi !== live[2 * pc + 1]) {
          live[2 * pc] = lo;
          live[2 * pc + 1] = hi;
          changed = true;
        }
      }
    }
    this.dirty = false;
  }
}
