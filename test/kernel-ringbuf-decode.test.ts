/**
 * Records decoded with the program's BTF, end to end: a C program (compiled here with
 * clang-19, skipped without it) fills a `struct event` — integers, a char array, a
 * nested struct, an enum, a u64, an int array — in a ring buffer; the reader reads it
 * and `decodeRecord` turns it into the object the C code wrote.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { BTFError } from "../src/btf/index.ts";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { Collection } from "../src/kernel/collection/collection.ts";
import { decodeRecord, recordDecoder } from "../src/kernel/readers/record-decode.ts";
import { RingBufferReader } from "../src/kernel/readers/ringbuf.ts";
import { noLeak, PACKET } from "./kernel-ringbuf-programs.ts";
import { kernelSkip, needs, toolSkip } from "./support/kernel.ts";

const skip = needs(kernelSkip, toolSkip("clang-19"));

function build(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-rbdecode-"));
  try {
    const src = new URL("./testdata/ringbuf/event.bpf.c", import.meta.url).pathname;
    const obj = join(dir, "event.bpf.o");
    execFileSync("clang-19", [
      "-g",
      "-O2",
      "-target",
      "bpf",
      "-I/usr/include/x86_64-linux-gnu",
      "-c",
      src,
      "-o",
      obj,
    ]);
    return readFileSync(obj);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("decodeRecord", { skip }, () => {
  test("a struct event from a ring buffer, decoded with the object's BTF", () =>
    noLeak(() => {
      const spec = loadCollectionSpec(build());
      assert.ok(spec.btf);
      using coll = Collection.load(spec);
      using reader = RingBufferReader.open(coll.maps.events!);
      coll.programs.emit!.run({ data: PACKET, repeat: 2 });
      const recs = reader.readAvailable();
      assert.equal(recs.length, 2);
      const want = {
        pid: 4242,
        comm: "tsbpf",
        in: { a: 65535, b: -5 },
        c: 40,
        ts: 0x123456789abcdefn,
        arr: [-1, 0, 7],
      };
      assert.deepEqual(decodeRecord(recs[0]!, spec.btf, "event"), want);
      const decode = recordDecoder<typeof want>(spec.btf, "event");
      assert.deepEqual(decode(recs[1]!), want);
      // by type id too
      const id = spec.btf.findByName("STRUCT", "event")!.id;
      assert.deepEqual(decodeRecord(recs[1]!, spec.btf, id), want);
      // errors name the type and sizes
      assert.throws(
        () => decode(recs[0]!.subarray(0, 10)),
        (e: Error) =>
          e instanceof BTFError &&
          /10 bytes is too short for STRUCT 'event' \[\d+\] \(56 bytes\)/.test(e.message),
      );
      assert.throws(
        () => recordDecoder(spec.btf!, "nope"),
        /no struct, union or typedef named "nope"/,
      );
    }));
});
