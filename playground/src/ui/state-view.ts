/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The verifier's state before one instruction: each register's type, bounds and tnum,
 * where it was set, and the stack slots that hold something. On a rejection the state
 * on the failing path comes first; other paths that reached the instruction follow.
 * @module
 */

import { describe } from "../../../src/verifier/explain.ts";
import type { InsnState, RegisterState, ValueBounds } from "../../../src/verifier/index.ts";
import { h } from "./dom.ts";

const U64_MAX = (1n << 64n) - 1n;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

const hex = (n: bigint) => `0x${n.toString(16)}`;

/** A value's bounds, leaving out those that say nothing. */
export function boundsText(b: ValueBounds): string {
  if (b.tnum.mask === 0n) return `= ${BigInt.asIntN(64, b.tnum.value)}`;
  const parts: string[] = [];
  if (b.smin !== S64_MIN || b.smax !== S64_MAX) parts.push(`s64 [${b.smin}, ${b.smax}]`);
  if (b.umin !== 0n || b.umax !== U64_MAX) parts.push(`u64 [${b.umin}, ${b.umax}]`);
  if (b.s32min !== -0x8000_0000 || b.s32max !== 0x7fff_ffff)
    parts.push(`s32 [${b.s32min}, ${b.s32max}]`);
  if (b.u32min !== 0 || b.u32max !== 0xffff_ffff) parts.push(`u32 [${b.u32min}, ${b.u32max}]`);
  return parts.join(", ") || "any value";
}

/** The tnum as `(value; mask)` in hex: bits set in mask are unknown. */
export function tnumText(b: ValueBounds): string {
  return `(${hex(b.tnum.value)}; ${hex(b.tnum.mask)})`;
}

/** A register's row, and under it what the verifier knows in words. */
function registerRows(r: RegisterState): HTMLElement[] {
  const pointer = r.base !== "scalar";
  const row = h(
    "tr",
    { "data-reg": r.regno },
    h("th", { scope: "row" }, `r${r.regno}`),
    h("td", {}, h("code", {}, r.type)),
    h(
      "td",
      {},
      pointer
        ? [
            `off ${r.off}`,
            r.bounds.tnum.mask !== 0n ? `, var ${boundsText(r.bounds)}` : "",
            r.range !== undefined ? `, range ${r.range}` : "",
            r.map ? `, map ${r.map.name}` : "",
          ].join("")
        : boundsText(r.bounds),
    ),
    h("td", {}, h("code", {}, tnumText(r.bounds))),
    h("td", {}, r.definedAt < 0 ? "entry" : `insn ${r.definedAt}`),
  );
  return [row, h("tr", { class: "why" }, h("td", {}), h("td", { colspan: 4 }, describe(r)))];
}

/** The state view's content for one state. */
function stateTable(s: InsnState): HTMLElement {
  const frame = s.frames[s.frames.length - 1];
  const regs = frame?.registers ?? [];
  const stack = frame?.stack ?? [];
  return h(
    "div",
    { class: "state" },
    s.frames.length > 1
      ? h("p", {}, `In frame ${s.frames.length - 1} (called at insn ${frame?.callsite}).`)
      : null,
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "regs", "aria-label": "Registers" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["Reg", "Type", "Bounds", "tnum (value; mask)", "Set at"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        h("tbody", {}, ...regs.flatMap(registerRows)),
      ),
    ),
    stack.length
      ? h(
          "div",
          { class: "scroll" },
          h(
            "table",
            { class: "stack", "aria-label": "Stack slots" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ...["Slot", "Bytes (high to low)", "Holds"].map((t) =>
                  h("th", { scope: "col" }, t),
                ),
              ),
            ),
            h(
              "tbody",
              {},
              ...stack.map((sl) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, `fp${sl.offset}`),
                  h("td", {}, h("code", {}, sl.bytes)),
                  h("td", {}, h("code", {}, sl.text)),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "The stack holds nothing yet."),
    s.refs.length
      ? h("p", {}, `References held: ${s.refs.map((r) => `id ${r}`).join(", ")}.`)
      : null,
  );
}

/**
 * The view of `states` (the states the walk recorded before instruction `pc`, the one to
 * show first first); `which` picks one of them.
 */
export function stateView(
  pc: number,
  insnText: string,
  states: readonly InsnState[],
  which: number,
  onPath: boolean,
  pick: (i: number) => void,
): HTMLElement {
  const head = h("h3", { id: "state-title" }, `Before insn ${pc}: `, h("code", {}, insnText));
  if (states.length === 0)
    return h(
      "div",
      {},
      head,
      h(
        "p",
        { class: "muted" },
        "No path reaches this instruction: dead code (or the walk stopped earlier).",
      ),
    );
  const i = Math.min(which, states.length - 1);
  const choose =
    states.length > 1
      ? h(
          "p",
          { class: "paths" },
          `${states.length} states reached it: `,
          ...states.map((_, k) =>
            h(
              "button",
              {
                type: "button",
                class: "chip",
                "aria-pressed": k === i ? "true" : "false",
                "data-state": k,
              },
              k === 0 && onPath ? "failing path" : `path ${k + 1}`,
            ),
          ),
        )
      : onPath
        ? h("p", { class: "paths" }, "On the failing path.")
        : null;
  choose?.querySelectorAll("button").forEach((b) => {
    b.addEventListener("click", () => pick(Number(b.dataset.state)));
  });
  return h("div", {}, head, choose, stateTable(states[i] as InsnState));
}
