/**
 * Pinning maps on bpffs and opening them again (by path, by id, read-only), and
 * pinning by name from a spec. Pins live in a temporary directory under /sys/fs/bpf
 * that is always removed.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { mapInfoById } from "../src/kernel/maps/map-info.ts";
import {
  bpffsStatus,
  DEFAULT_BPFFS,
  ensureBpffs,
  isOnBpffs,
  openPinned,
  pinObject,
} from "../src/kernel/objects/pin.ts";
import { Program } from "../src/kernel/programs/program.ts";
import type { MapSpec } from "../src/spec/map-spec.ts";
import { MapType, ProgType } from "../src/uapi/index.ts";
import { noLeaks, readU32, skipUnlessRoot as skip, u32 } from "./map-model-support.ts";

describe("pinning", { skip }, () => {
  let dir = "";
  before(() => {
    ensureBpffs();
    dir = mkdtempSync(join(DEFAULT_BPFFS, "tsbpf-test-"));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.equal(existsSync(dir), false, "the pin directory is gone");
  });

  test("bpffs is mounted and recognised", () => {
    assert.equal(isOnBpffs(DEFAULT_BPFFS), true);
    assert.equal(isOnBpffs("/tmp"), false);
    assert.deepEqual(bpffsStatus(join(dir, "a", "b")), { existing: dir, onBpffs: true });
  });

  test("ensureBpffs mounts a bpf filesystem where there is none", () => {
    const where = mkdtempSync(join(tmpdir(), "tsbpf-bpffs-"));
    try {
      assert.equal(isOnBpffs(where), false);
      ensureBpffs(where);
      try {
        assert.equal(isOnBpffs(where), true);
        ensureBpffs(where); // already there: nothing to do
      } finally {
        execFileSync("umount", [where]);
      }
      assert.equal(isOnBpffs(where), false);
    } finally {
      rmdirSync(where);
    }
  });

  test("pin, open again, read-only open, unpin", () =>
    noLeaks(() => {
      const path = join(dir, "counts");
      const m = BpfMap.create({
        name: "t_pinned",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 8,
      });
      try {
        m.update(u32(1), u32(11));
        m.pin(path);
        assert.throws(() => m.pin(path), /already pinned/);
        const again = BpfMap.fromPin(path);
        try {
          assert.equal(again.info().id, m.info().id);
          assert.equal(again.name, "t_pinned");
          assert.equal(readU32(again.lookup(u32(1))), 11);
          again.update(u32(2), u32(22));
        } finally {
          again.close();
        }
        assert.equal(readU32(m.lookup(u32(2))), 22);
        const ro = BpfMap.fromPin(path, { readOnly: true });
        try {
          assert.equal(readU32(ro.lookup(u32(2))), 22);
          assert.throws(() => ro.update(u32(3), u32(3)), /Operation not permitted/);
        } finally {
          ro.close();
        }
        const fd = openPinned(path);
        fd.close();
      } finally {
        m.close();
        rmSync(path, { force: true });
      }
      assert.throws(() => BpfMap.fromPin(path), /nothing is pinned at/);
    }));

  test("the pinned map outlives its creator's descriptor", () =>
    noLeaks(() => {
      const path = join(dir, "survivor");
      const m = BpfMap.create({
        name: "t_surv",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 2,
      });
      m.update(u32(1), u32(5));
      const id = m.info().id;
      m.pin(path);
      m.close();
      try {
        assert.ok(mapInfoById(id), "still there by id");
        const again = BpfMap.fromPin(path);
        try {
          assert.equal(readU32(again.lookup(u32(1))), 5);
        } finally {
          again.close();
        }
      } finally {
        rmSync(path, { force: true });
      }
    }));

  test("pinning by name reuses a compatible pinned map and refuses an incompatible one", () =>
    noLeaks(() => {
      const spec: MapSpec = {
        name: "t_byname",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 8,
        pinning: "byName",
      };
      const a = BpfMap.create(spec, { pinPath: dir });
      try {
        assert.equal(existsSync(join(dir, "t_byname")), true);
        a.update(u32(9), u32(99));
        const b = BpfMap.create(spec, { pinPath: dir });
        try {
          assert.equal(b.info().id, a.info().id, "the same map");
          assert.equal(readU32(b.lookup(u32(9))), 99);
        } finally {
          b.close();
        }
        assert.throws(
          () => BpfMap.create({ ...spec, maxEntries: 16 }, { pinPath: dir }),
          /does not match spec "t_byname": maxEntries is 8, the spec says 16/,
        );
      } finally {
        a.close();
        rmSync(join(dir, "t_byname"), { force: true });
      }
    }));

  test("pinning by name where a program is pinned names what is there", () =>
    noLeaks(() => {
      // mov r0, 0; exit: a program to pin where the map would be.
      const insns = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
      const prog = Program.load({
        name: "t_notamap",
        type: ProgType.SOCKET_FILTER,
        license: "GPL",
        instructions: insns,
      });
      const path = join(dir, "t_notamap");
      try {
        prog.pin(path);
        const spec: MapSpec = {
          name: "t_notamap",
          type: MapType.HASH,
          keySize: 4,
          valueSize: 4,
          maxEntries: 8,
          pinning: "byName",
        };
        assert.throws(
          () => BpfMap.create(spec, { pinPath: dir }),
          /BpfMap\.fromFd.*is a BPF program, not a BPF map/,
        );
      } finally {
        prog.close();
        rmSync(path, { force: true });
      }
    }));

  test("pinObject names the path when the directory is missing", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_nodir",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 1,
      });
      try {
        assert.throws(() => pinObject(m.fd, join(dir, "missing", "x")), /missing does not exist/);
      } finally {
        m.close();
      }
    }));
});
