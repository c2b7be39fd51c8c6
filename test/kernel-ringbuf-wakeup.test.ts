/**
 * A reader woken by data from ANOTHER process, with nothing else happening in this
 * one: the `for await` loop must resume promptly. This guards the wake-up path
 * (FdWatch runs its callbacks from setImmediate, because koffi calls the poll callback
 * outside Node's callback scope). It passed before that change too: what the change
 * fixed — a record read after a signal handler had closed the ring — showed up in CI
 * as an all-zero line from examples/trace-open-ringbuf, and is not reproduced here.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { ensureBpffs } from "../src/kernel/objects/pin.ts";
import { RingBufferReader } from "../src/kernel/readers/ringbuf.ts";
import { MapType } from "../src/uapi/index.ts";
import { noLeak, PACKET, pattern, ringbufProgram } from "./kernel-ringbuf-programs.ts";
import { kernelSkip, needs, scaled, toolSkip } from "./support/kernel.ts";

// bpftool runs the producer from another process.
const skip = needs(kernelSkip, toolSkip("bpftool"));

test("the async iterator wakes for records another process produces", { skip }, () =>
  noLeak(async () => {
    ensureBpffs();
    const dir = mkdtempSync("/sys/fs/bpf/tsbpf-wakeup-");
    const work = mkdtempSync(join(tmpdir(), "tsbpf-wakeup-"));
    using map = BpfMap.create({
      name: "wake",
      type: MapType.RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 4096,
    });
    using prog = ringbufProgram([map.fd], [{ size: 16, how: "output" }]);
    const pin = join(dir, "prog");
    prog.pin(pin);
    const data = join(work, "packet");
    writeFileSync(data, PACKET);
    try {
      using reader = RingBufferReader.open(map);
      // A grandchild runs the program 300 ms from now; our own child exits at once, so
      // no event of ours (child exit, timer) coincides with the records' arrival.
      spawnSync("sh", [
        "-c",
        `(sleep 0.3; bpftool prog run pinned ${pin} data_in ${data} repeat 3) >/dev/null 2>&1 &`,
      ]);
      const start = performance.now();
      // The only timer here is the watchdog: if the loop needed it to wake, the
      // elapsed time says so.
      const watchdog = setTimeout(() => reader.close(), scaled(5000));
      const got: Uint8Array[] = [];
      for await (const rec of reader) {
        got.push(rec.slice());
        if (got.length === 3) break;
      }
      clearTimeout(watchdog);
      const elapsed = performance.now() - start;
      assert.equal(got.length, 3, "records before the watchdog closed the reader");
      for (const r of got) assert.deepEqual(r, pattern(16, 0));
      assert.ok(
        elapsed < scaled(3000),
        `woke after ${elapsed.toFixed(0)} ms (the watchdog is at ${scaled(5000)})`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  }),
);
