/**
 * The whole CLI as data: every top-level word with its description, loaded from the
 * object modules (which hold no code that runs a command until it is called). Shell
 * completion and the man page are generated from this, so they list what dispatch
 * runs.
 */
import type { CliTable, ObjectDescription } from "./command.ts";

/** One top-level word, described. */
export interface DescribedObject {
  readonly name: string;
  /** False for bpftool's objects tsbpf does not have yet (dispatched only to say so). */
  readonly supported: boolean;
  /** Absent for words without commands or usage of their own (`help`, `version`). */
  readonly description?: ObjectDescription;
}

/** Every top-level word of `cli`, in dispatch order, with its description. */
export async function describeObjects(cli: CliTable): Promise<DescribedObject[]> {
  return Promise.all(
    cli.objects.map(async (o) => ({
      name: o.name,
      supported: o.load !== undefined,
      ...(o.describe && { description: await o.describe() }),
    })),
  );
}

/** A keyword spec (`"pinned FILE"`) as its word and the placeholder of its value. */
export function splitKeyword(spec: string): { word: string; value?: string } {
  const [word = spec, value] = spec.split(" ");
  return value === undefined ? { word } : { word, value };
}
