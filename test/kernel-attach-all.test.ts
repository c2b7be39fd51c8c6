/**
 * A loaded program keeps its spec and attaches where its SEC() name says
 * (`program.attach()`); `collection.attachAll()` attaches what libbpf's skeleton
 * `__attach` would, and its links close together. On a kernel without kprobes, an
 * object with a kprobe program fails as a whole with the kernel feature named, and
 * leaves no link behind.
 */
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadCollectionSpec } from "../src/elf/index.ts";
import { Collection } from "../src/kernel/collection/collection.ts";
import { NotSupportedError } from "../src/kernel/features/not-supported-error.ts";
import { nextObjectId } from "../src/kernel/objects/objects.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { kernelSkip } from "./support/kernel.ts";

const ROOT = join(import.meta.dirname, "..");
const spec = (rel: string) => loadCollectionSpec(readFileSync(join(ROOT, rel)));
const key = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (b: Uint8Array | undefined) => (b ? Buffer.from(b).readBigUInt64LE() : 0n);

function linkIds(): number[] {
  const ids: number[] = [];
  for (let id = nextObjectId("link"); id !== undefined; id = nextObjectId("link", id)) ids.push(id);
  return ids;
}

function openSome(n: number): void {
  for (let i = 0; i < n; i++) closeSync(openSync("/dev/null", "r"));
}

describe("attach from the spec", { skip: kernelSkip }, () => {
  test("attachAll: every auto-attachable program, links that close together", () => {
    const before = linkIds();
    using coll = Collection.load(spec("examples/open-load-attach/open-load-attach.bpf.o"), {
      constants: { target_tgid: process.pid },
    });
    const counts = coll.map("counts");
    {
      using links = coll.attachAll();
      assert.deepEqual([...links.keys()].sort(), ["count_close", "count_openat", "count_syscalls"]);
      openSome(10);
      assert.ok(u64(counts.lookup(key(0))) >= 10n, "openat counted");
      assert.ok(u64(counts.lookup(key(1))) >= 10n, "close counted");
    }
    // Closed together: nothing counts any more, and no link of ours is left.
    const after = u64(counts.lookup(key(0)));
    openSome(10);
    assert.equal(u64(counts.lookup(key(0))), after);
    assert.deepEqual(
      linkIds().filter((id) => !before.includes(id)),
      [],
    );
  });

  test("program.attach(): the hook of its SEC() name; an opened program has no spec", () => {
    using coll = Collection.load(spec("examples/open-load-attach/open-load-attach.bpf.o"), {
      constants: { target_tgid: process.pid },
    });
    const prog = coll.program("count_openat");
    assert.equal(prog.spec?.attach?.hook.kind, "tracepoint");
    {
      using _link = prog.attach();
      openSome(5);
    }
    assert.ok(u64(coll.map("counts").lookup(key(0))) >= 5n);
    using opened = Program.fromId(prog.id);
    assert.throws(() => opened.attach(), /was opened, not loaded from a spec/);
  });

  test("programs without an automatic hook are left alone; an XDP program says what it needs", () => {
    using coll = Collection.load(spec("examples/xdp-count/xdp-count.bpf.o"));
    using links = coll.attachAll();
    assert.equal(links.size, 0);
    const [name] = Object.keys(coll.programs);
    assert.throws(() => coll.program(name!).attach(), /XDP programs need target.iface/);
  });

  test("a hook the kernel lacks fails the whole attachAll, and no link stays", () => {
    const before = linkIds();
    using coll = Collection.load(spec("examples/hello/hello.bpf.o"));
    let err: unknown;
    try {
      using _links = coll.attachAll();
    } catch (e) {
      err = e;
    }
    // A kernel with kprobes attached both and closed them; one without refuses the lot.
    if (err !== undefined) {
      assert.ok(err instanceof NotSupportedError, String(err));
      assert.match(err.message, /kprobes are not available on this kernel/);
    }
    assert.deepEqual(
      linkIds().filter((id) => !before.includes(id)),
      [],
    );
  });
});
