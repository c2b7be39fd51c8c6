/**
 * How the tests run an example from the repository, as a user runs it from the
 * package: the examples import `tsbpf/kernel`, `tsbpf/vm`, ... by the package's name,
 * and the `tsbpf-source` export condition (package.json "exports") points those at
 * src/ instead of the built dist/, so no build is needed; tsx compiles the .ts.
 */

/** Node's arguments before an example's path: `node ...FROM_SOURCE examples/x/x.ts`. */
export const FROM_SOURCE: readonly string[] = ["--conditions=tsbpf-source", "--import", "tsx"];
