/**
 * Links made together (by `Collection.attachAll`, as libbpf's skeleton `__attach`):
 * by program name, closed together.
 * @module
 */

import type { Link } from "./link.ts";

/**
 * The links of one `attachAll`, by program name. `close()` (or `using`) detaches them
 * all; a link pinned meanwhile stays attached through its pin.
 *
 * @example
 * ```ts
 * using coll = Collection.load(spec);
 * using links = coll.attachAll();
 * console.log([...links.keys()]); // ["handle_openat", ...]
 * ```
 */
export class LinkSet implements Disposable, Iterable<[string, Link]> {
  readonly #links: Map<string, Link>;

  /** @internal Takes ownership of `links`. */
  constructor(links: Map<string, Link>) {
    this.#links = links;
  }

  /** The link of program `name`, or undefined when that program was not attached. */
  get(name: string): Link | undefined {
    return this.#links.get(name);
  }

  /** Names of the attached programs. */
  keys(): IterableIterator<string> {
    return this.#links.keys();
  }

  /** How many programs are attached. */
  get size(): number {
    return this.#links.size;
  }

  [Symbol.iterator](): IterableIterator<[string, Link]> {
    return this.#links.entries();
  }

  /** Closes every link (detaching what no pin holds). Safe to call more than once. */
  close(): void {
    for (const l of this.#links.values()) l.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
