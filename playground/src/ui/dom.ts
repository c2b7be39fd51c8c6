/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * A few DOM helpers: the page is plain DOM (no framework: the whole UI is a handful of
 * panels redrawn when their data changes, which `h()` does in a few lines).
 * @module
 */

type Child = Node | string | number | false | null | undefined;

/** An element with attributes (`class`, `id`, `aria-*`, `data-*`...) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: (Child | readonly Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "number" ? String(c) : c);
  }
  return el;
}

/** The element with id `id`, of the type asked for. @throws Error when the page lacks it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: (Child | readonly Child[])[]): void {
  el.replaceChildren();
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "number" ? String(c) : c);
  }
}

/** Bytes as hex with the bytes that differ from `other` (same index) marked. */
export function hexWithChanges(bytes: Uint8Array, other: Uint8Array | undefined): HTMLElement {
  const pre = h("pre", { class: "hex" });
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) pre.append(i % 16 === 0 ? "\n" : " ");
    const text = (bytes[i] as number).toString(16).padStart(2, "0");
    if (other !== undefined && other[i] !== bytes[i]) pre.append(h("mark", {}, text));
    else pre.append(text);
  }
  if (bytes.length === 0) pre.append("(empty)");
  return pre;
}
