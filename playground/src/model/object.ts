/**
 * A `.bpf.o` dropped on the playground: its programs as verifier cases (what `tsbpf vm
 * verify OBJ` judges, src/verifier/object-cases.ts). The page loads this module (and
 * the ELF reader) when a file is opened.
 *
 * Pure: no DOM, no `node:` imports.
 * @module
 */
import { loadCollectionSpec } from "../../../src/elf/index.ts";
import type { CollectionSpec } from "../../../src/spec/collection-spec.ts";
import type { VerifierCase } from "../../../src/verifier/index.ts";
import { objectCases } from "../../../src/verifier/object-cases.ts";
import { defaultRecordType, type RecordType, recordTypes } from "./records.ts";

/** The most bytes of an object the page reads (the CLI's MAX_OBJECT_BYTES is larger; a page holds it in memory). */
export const MAX_OBJECT_BYTES = 64 << 20;

/** One program of an object. */
export interface ObjectProgram {
  readonly name: string;
  /** The case the verifier judges, or why the object's program cannot be one. */
  readonly case?: VerifierCase;
  readonly skipped?: string;
}

/** An object read from bytes. */
export interface LoadedObject {
  /** The file name it came from (for messages). */
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly spec: CollectionSpec;
  readonly programs: readonly ObjectProgram[];
  /** The structs of its BTF a ring buffer record can be decoded as (none without BTF). */
  readonly recordTypes: readonly RecordType[];
  /** The struct records are decoded as until another is picked, or `hex`. */
  readonly defaultRecordType: string;
}

/**
 * Reads an ELF object.
 * @throws Error naming the file and what is wrong with it.
 */
export function readObject(bytes: Uint8Array, file: string): LoadedObject {
  if (bytes.length > MAX_OBJECT_BYTES)
    throw new Error(
      `${file}: ${bytes.length} bytes, more than the ${MAX_OBJECT_BYTES} the page reads`,
    );
  if (!(bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46))
    throw new Error(`${file}: not an ELF object (it does not start with \\x7fELF)`);
  let spec: CollectionSpec;
  try {
    spec = loadCollectionSpec(bytes);
  } catch (e) {
    throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { cases, skipped } = objectCases(spec, file);
  const programs: ObjectProgram[] = Object.keys(spec.programs).map((name) => {
    const c = cases.find((x) => x.case.name === name);
    if (c) return { name, case: c.case };
    return { name, skipped: skipped.find((s) => s.program === name)?.reason ?? "not a case" };
  });
  const types = recordTypes(spec.btf);
  return {
    file,
    bytes,
    spec,
    programs,
    recordTypes: types,
    defaultRecordType: defaultRecordType(types),
  };
}
