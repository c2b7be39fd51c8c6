/**
 * The by-name accessors both backends' collections share (`map(name)`,
 * `program(name)`, `variable(name)`): one lookup, one message listing what there is.
 *
 * Pure: no `node:` imports.
 * @module
 */

/**
 * `all[name]`.
 * @throws Error naming `kind` and listing every name in `all` when there is none
 */
export function named<T>(kind: string, all: Readonly<Record<string, T>>, name: string): T {
  const v = Object.hasOwn(all, name) ? all[name] : undefined;
  if (v === undefined)
    throw new Error(
      `no ${kind} "${name}" in the collection (${kind}s: ${Object.keys(all).join(", ")})`,
    );
  return v;
}
