import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AttachFlags,
  AttachType,
  attachTypeName,
  BPF_ATTR_SIZE,
  BpfCmd,
  bpfAttr,
  bpfLinkInfo,
  bpfProgInfo,
  Errno,
  errnoMessage,
  errnoName,
  errnoNumber,
  FileFlags,
  HelperId,
  helperIdByName,
  helperName,
  LinkType,
  linkTypeName,
  MapFlags,
  MapType,
  mapTypeName,
  ProgType,
  progTypeName,
  type StructLayout,
  UpdateFlags,
} from "./index.ts";

describe("generated constants", () => {
  test("known values", () => {
    assert.equal(BpfCmd.PROG_LOAD, 5);
    assert.equal(BpfCmd.MAP_CREATE, 0);
    assert.equal(MapType.RINGBUF, 27);
    assert.equal(MapType.HASH, 1);
    assert.equal(MapType.CGROUP_STORAGE, MapType.CGROUP_STORAGE_DEPRECATED);
    assert.equal(ProgType.XDP, 6);
    assert.equal(AttachType.CGROUP_INET_INGRESS, 0);
    assert.equal(HelperId.map_lookup_elem, 1);
    assert.equal(UpdateFlags.ANY, 0);
    assert.equal(UpdateFlags.NOEXIST, 1);
    assert.equal(UpdateFlags.EXIST, 2);
    assert.equal(UpdateFlags.LOCK, 4);
    assert.equal(MapFlags.NO_PREALLOC, 1);
    assert.equal(FileFlags.RDONLY, 8);
    assert.equal(AttachFlags.LINK, 1 << 13);
  });

  test("union bpf_attr layouts", () => {
    assert.ok(BPF_ATTR_SIZE >= 120 && BPF_ATTR_SIZE % 8 === 0, `BPF_ATTR_SIZE ${BPF_ATTR_SIZE}`);
    const f = bpfAttr.mapCreate.fields;
    assert.deepEqual(f.map_type, { offset: 0, size: 4 });
    assert.equal(f.max_entries.offset, 12);
    assert.deepEqual(f.map_name, { offset: 28, size: 16 });
    assert.deepEqual(bpfAttr.mapElem.fields.value, bpfAttr.mapElem.fields.next_key);
    assert.equal(bpfAttr.mapElem.fields.key.offset, 8);
    assert.equal(bpfAttr.progLoad.fields.prog_name.size, 16);
    assert.equal(bpfAttr.progLoad.fields.log_buf.offset, 32);
    assert.equal(bpfAttr.objPin.fields.pathname.offset, 0);
    assert.equal(bpfAttr.getId.fields.prog_id.offset, 0);
    assert.equal(bpfAttr.getId.fields.next_id.offset, 4);
    assert.equal(bpfAttr.linkCreate.fields["perf_event.bpf_cookie"].offset, 16);
    assert.equal(bpfAttr.linkCreate.fields["tcx.relative_fd"].offset, 16);
    assert.equal(bpfAttr.linkCreate.fields["kprobe_multi.cnt"].offset, 20);
    assert.equal(bpfAttr.test.fields.repeat.offset, 32);
    for (const [name, layout] of Object.entries(bpfAttr) as [string, StructLayout][]) {
      assert.ok(layout.size <= BPF_ATTR_SIZE, `${name} fits in bpf_attr`);
      for (const [k, field] of Object.entries(layout.fields)) {
        assert.ok(field.offset + field.size <= layout.size, `${name}.${k} inside its struct`);
      }
    }
  });

  test("info structs", () => {
    assert.deepEqual(bpfProgInfo.fields.tag, { offset: 8, size: 8 });
    assert.deepEqual(bpfProgInfo.fields.gpl_compatible, {
      offset: 84,
      size: 4,
      bitOffset: 0,
      bitSize: 1,
    });
    assert.equal(bpfLinkInfo.fields["raw_tracepoint.tp_name"].offset, 16);
    assert.equal(bpfLinkInfo.fields["perf_event.type"].offset, 16);
    assert.equal(bpfLinkInfo.fields["perf_event.tracepoint.tp_name"].offset, 24);
  });
});

describe("names", () => {
  test("bpftool spellings", () => {
    assert.equal(mapTypeName(1), "hash");
    assert.equal(mapTypeName(MapType.PERCPU_HASH), "percpu_hash");
    assert.equal(mapTypeName(MapType.CGROUP_STORAGE), "cgroup_storage");
    assert.equal(mapTypeName(MapType.PERCPU_CGROUP_STORAGE), "percpu_cgroup_storage");
    assert.equal(mapTypeName(9999), undefined);
    assert.equal(progTypeName(6), "xdp");
    assert.equal(progTypeName(ProgType.SCHED_CLS), "sched_cls");
    assert.equal(attachTypeName(AttachType.CGROUP_INET_INGRESS), "cgroup_inet_ingress");
    assert.equal(attachTypeName(AttachType.TCX_INGRESS), "tcx_ingress");
    assert.equal(linkTypeName(LinkType.PERF_EVENT), "perf_event");
    assert.equal(helperName(1), "bpf_map_lookup_elem");
    assert.equal(helperName(-1), undefined);
    assert.equal(helperIdByName("bpf_map_lookup_elem"), 1);
    assert.equal(helperIdByName("map_lookup_elem"), 1);
    assert.equal(helperIdByName("bpf_nonexistent"), undefined);
  });
});

describe("errno", () => {
  test("names and messages", () => {
    assert.equal(errnoName(2), "ENOENT");
    assert.equal(errnoName(-2), "ENOENT");
    assert.equal(errnoMessage(2), "No such file or directory");
    assert.equal(errnoName(1), "EPERM");
    assert.equal(errnoName(11), "EAGAIN");
    assert.equal(errnoName(95), "EOPNOTSUPP");
    assert.equal(errnoName(524), "ENOTSUPP");
    assert.match(errnoMessage(524) ?? "", /not supported/);
    assert.equal(errnoName(4000), undefined);
    assert.equal(errnoNumber("EWOULDBLOCK"), 11);
    assert.equal(errnoNumber("E2BIG"), 7);
  });
});

test("Errno constants", () => {
  assert.equal(Errno.ENOENT, 2);
  assert.equal(Errno.EAGAIN, 11);
  assert.equal(Errno.EWOULDBLOCK, 11);
  assert.equal(Errno.ENOTSUPP, 524);
});
