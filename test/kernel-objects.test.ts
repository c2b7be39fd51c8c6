/**
 * Walking what the kernel holds: ids of maps, programs, links and BTF objects, and
 * opening them by id. Compared with bpftool where it is installed.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { mapInfoByFd } from "../src/kernel/maps/map-info.ts";
import { objInfoByFd } from "../src/kernel/objects/obj-info.ts";
import {
  btfIds,
  linkIds,
  mapIds,
  nextObjectId,
  objectFdById,
  progIds,
} from "../src/kernel/objects/objects.ts";
import { bpfMapInfo, MapType } from "../src/uapi/index.ts";
import { noLeaks, skipUnlessRoot as skip } from "./map-model-support.ts";

function bpftoolMapIds(): number[] | undefined {
  try {
    const out = JSON.parse(
      execFileSync("bpftool", ["map", "show", "-j"], { encoding: "utf8" }),
    ) as { id: number }[];
    return out.map((m) => m.id);
  } catch {
    return undefined;
  }
}

describe("walking kernel objects", { skip }, () => {
  test("mapIds finds a map just created, in increasing order, and it opens by id", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_walk",
        type: MapType.HASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 1,
      });
      try {
        const id = m.info().id;
        const ids = [...mapIds()];
        assert.ok(ids.includes(id), `id ${id} among ${ids.length} map ids`);
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => a - b),
        );
        const fd = objectFdById("map", id);
        assert.ok(fd);
        try {
          const info = mapInfoByFd(fd.value);
          assert.equal(info.id, id);
          assert.equal(info.name, "t_walk");
        } finally {
          fd.close();
        }
        const bpftool = bpftoolMapIds();
        if (bpftool) {
          // Maps may come and go between the two walks; ours is in both.
          assert.ok(bpftool.includes(id));
        }
      } finally {
        m.close();
      }
    }));

  test("an id that vanished (or never was) opens as undefined, not an error", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_gone",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 1,
      });
      const id = m.info().id;
      m.close();
      // The kernel frees maps asynchronously; wait until the id is gone.
      for (let i = 0; i < 1000 && [...mapIds()].includes(id); i++)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      assert.equal(objectFdById("map", id), undefined);
      assert.equal(objectFdById("prog", 0x7ffffff0), undefined);
    }));

  test("program, link and BTF walks run and agree with nextObjectId", () =>
    noLeaks(() => {
      for (const [kind, walk] of [
        ["prog", progIds],
        ["link", linkIds],
        ["btf", btfIds],
      ] as const) {
        const ids = [...walk()];
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => a - b),
          `${kind} ids increase`,
        );
        if (ids.length > 0) assert.equal(nextObjectId(kind, 0), ids[0]);
        else assert.equal(nextObjectId(kind, 0), undefined);
      }
      assert.ok([...btfIds()].length > 0, "vmlinux BTF at least");
    }));

  test("objInfoByFd decodes with any layout and reports bad descriptors", () =>
    noLeaks(() => {
      const m = BpfMap.create({
        name: "t_info",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 16,
        maxEntries: 3,
      });
      try {
        const view = objInfoByFd(m.fd, bpfMapInfo);
        assert.equal(view.getUint32(bpfMapInfo.fields.value_size.offset, true), 16);
        assert.equal(view.getUint32(bpfMapInfo.fields.type.offset, true), MapType.ARRAY);
      } finally {
        m.close();
      }
      assert.throws(
        () => objInfoByFd(99999, bpfMapInfo),
        /object info \(fd 99999\): File descriptor in bad state/,
      );
    }));
});
