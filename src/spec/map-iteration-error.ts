/** The error both backends throw when a map walk cannot finish. @module */

/**
 * A walk over a map's keys (`keys()`, `entries()`, `for...of`) gave up: the map changed
 * under it faster than it could be walked (a key deleted elsewhere restarts the
 * kernel's walk at the first key), so it took more steps than the map can hold keys.
 * Thrown by the kernel backend's and the VM's maps alike.
 *
 * @example
 * ```ts
 * try { for (const [k, v] of map) use(k, v); }
 * catch (e) { if (e instanceof MapIterationAbortedError) retryLater(e.steps); }
 * ```
 */
export class MapIterationAbortedError extends Error {
  override name = "MapIterationAbortedError";
  /** The map, for messages (`hash map "counts"`). */
  readonly map: string;
  /** Keys handed out before the walk gave up. */
  readonly steps: number;

  /** Builds the error for a walk over `map` that gave up after `steps` keys. */
  constructor(map: string, steps: number) {
    super(
      `${map}: walk aborted after ${steps} keys: the map changed under it (a key deleted during the walk restarts it at the first key)`,
    );
    this.map = map;
    this.steps = steps;
  }
}
