/**
 * Sharing by URL: the program and the run's inputs in the fragment (`#s=...`, base64url
 * of UTF-8 JSON), so a link opens the same page without any server, and nothing is sent
 * anywhere (a fragment never leaves the browser).
 *
 * Pure: no DOM, no `node:` imports.
 * @module
 */
import type { Syntax } from "./case-text.ts";
import type { Engine } from "./run.ts";

/** What a shared link holds. */
export interface SharedState {
  /** The editor's text (assembly and `.map` lines). */
  readonly text: string;
  /** The program type, by bpftool's name (`xdp`, `socket_filter`...). */
  readonly type: string;
  readonly syntax: Syntax;
  /** The packet, as hex. */
  readonly packet: string;
  readonly repeat: number;
  readonly engine: Engine;
  /**
   * How ring buffer records are shown: a struct name of the object's BTF, or `hex`;
   * it applies when an object with that struct is opened (absent: the default).
   */
  readonly decodeAs?: string;
}

/** The most characters of a fragment the page decodes (browsers keep URLs of about 2 MB). */
export const MAX_FRAGMENT = 1 << 21;

function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The fragment (with its `#`) for `s`. */
export function encodeShare(s: SharedState): string {
  return `#s=${toBase64Url(new TextEncoder().encode(JSON.stringify({ v: 1, ...s })))}`;
}

/**
 * The state in a fragment, or undefined when there is none.
 * @throws Error saying what is wrong with a fragment that holds one.
 */
export function decodeShare(fragment: string): SharedState | undefined {
  const m = /^#?s=([A-Za-z0-9_-]*)$/.exec(fragment);
  if (!m) return undefined;
  if (fragment.length > MAX_FRAGMENT) throw new Error("the shared link is too long to read");
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromBase64Url(m[1] ?? "")));
  } catch {
    throw new Error("the shared link is damaged (its data is not base64url JSON)");
  }
  if (o === null || typeof o !== "object" || o.v !== 1)
    throw new Error("the shared link was made by another version of the playground");
  const str = (k: string) => {
    if (typeof o[k] !== "string") throw new Error(`the shared link's "${k}" is not text`);
    return o[k] as string;
  };
  const repeat = o.repeat;
  if (typeof repeat !== "number" || !Number.isInteger(repeat) || repeat < 1)
    throw new Error('the shared link\'s "repeat" is not a count');
  const syntax = str("syntax");
  const engine = str("engine");
  if (syntax !== "bpftool" && syntax !== "llvm")
    throw new Error(`the shared link's syntax "${syntax}" is not bpftool or llvm`);
  if (engine !== "jit" && engine !== "interpret")
    throw new Error(`the shared link's engine "${engine}" is not jit or interpret`);
  if (o.decodeAs !== undefined && typeof o.decodeAs !== "string")
    throw new Error('the shared link\'s "decodeAs" is not text');
  return {
    text: str("text"),
    type: str("type"),
    syntax,
    packet: str("packet"),
    repeat,
    engine,
    ...(typeof o.decodeAs === "string" ? { decodeAs: o.decodeAs } : {}),
  };
}
