/**
 * The CLI's pure pieces against text bpftool prints: argument parsing (prefixes,
 * strtoul numbers, byte lists), the JSON writer's layout, hex layouts, formatters.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Args,
  checkAmbiguous,
  isPrefix,
  matchCommand,
  parseBytes,
  parseCUnsigned,
} from "../src/cli/args.ts";
import { fprintHex, hexDump } from "../src/cli/format/hex.ts";
import { JsonWriter } from "../src/cli/format/json-writer.ts";
import { CliError, exitForErrno } from "../src/cli/format/output.ts";
import { entryPlain, type MapView, mapPlain } from "../src/cli/map/format-map.ts";
import { formatLocalIso } from "../src/cli/objects/boot-time.ts";
import { type ProgView, progPlain } from "../src/cli/prog/format-prog.ts";
import { programFileKind } from "../src/cli/prog/prog-load.ts";
import { progTypeByName } from "../src/cli/prog/prog-type-names.ts";
import { AttachType, MapType, ProgType } from "../src/uapi/index.ts";

function json(pretty: boolean, f: (w: JsonWriter) => void): string {
  let s = "";
  f(new JsonWriter((t) => (s += t), pretty));
  return s;
}

test("prefixes: bpftool's is_prefix and first-match dispatch", () => {
  assert.ok(isPrefix("p", "prog"));
  assert.ok(isPrefix("", "show"));
  assert.ok(!isPrefix("progs", "prog"));
  const table = [{ name: "prog" }, { name: "perf" }, { name: "pin" }];
  assert.equal(matchCommand(table, "p")?.name, "prog"); // table order settles it
  assert.equal(matchCommand(table, "pe")?.name, "perf");
  assert.equal(matchCommand(table, "x"), undefined);
  assert.throws(
    () => checkAmbiguous("d", "data_in", "data_out"),
    /ambiguous prefix: 'd' could be 'data_in' or 'data_out'/,
  );
  checkAmbiguous("data_i", "data_in", "data_out");
});

test("numbers: strtoul(…, 0) notation", () => {
  assert.equal(parseCUnsigned("42"), 42n);
  assert.equal(parseCUnsigned("0x1f"), 31n);
  assert.equal(parseCUnsigned("017"), 15n);
  assert.equal(parseCUnsigned("0"), 0n);
  assert.equal(parseCUnsigned("ff", 16), 255n);
  assert.equal(parseCUnsigned("12a"), undefined);
  assert.equal(parseCUnsigned("09"), undefined); // octal
  assert.equal(parseCUnsigned(""), undefined);
});

test("bytes: key 1 0 0 0, key hex 01 02, and bpftool's errors", () => {
  assert.deepEqual([...parseBytes(new Args(["1", "0", "0x10", "0"]), "key", 4)], [1, 0, 16, 0]);
  assert.deepEqual([...parseBytes(new Args(["hex", "ff", "10"]), "key", 2)], [255, 16]);
  const a = new Args(["1", "2", "value", "3"]);
  assert.deepEqual([...parseBytes(a, "key", 2)], [1, 2]);
  assert.equal(a.peek(), "value");
  assert.throws(() => parseBytes(new Args(["1", "2"]), "key", 4), /key expected 4 bytes got 2/);
  assert.throws(() => parseBytes(new Args(["1", "zz"]), "key", 2), /error parsing byte: zz/);
});

test("Args: bpftool's REQ_ARGS and BAD_ARG messages", () => {
  const a = new Args(["pin", "id"]);
  a.skip();
  assert.throws(() => a.require(3), /'pin' needs at least 3 arguments, 1 found/);
  assert.throws(() => new Args(["foo"]).end(), /what is 'foo'\?/);
  assert.throws(() => new Args(["x"]).u32("key size"), /can't parse x as key size/);
});

test("JSON writer: bpftool's compact and pretty layouts", () => {
  const v = { id: 5, map_ids: [4, 5], tag: "ab", ok: true, none: null, skip: undefined };
  assert.equal(
    json(false, (w) => w.value([v])),
    '[{"id":5,"map_ids":[4,5],"tag":"ab","ok":true,"none":null}]',
  );
  // bpftool -p: array elements stay on the opening line; objects in arrays follow `},{`.
  assert.equal(
    json(true, (w) => w.value([v, { id: 6 }])),
    '[{\n        "id": 5,\n        "map_ids": [4,5\n        ],\n        "tag": "ab",\n        "ok": true,\n        "none": null\n    },{\n        "id": 6\n    }\n]',
  );
  assert.equal(
    json(true, (w) => w.value([])),
    "[]",
  );
  assert.equal(
    json(false, (w) => w.value({ s: 'a"b\\c\n' })),
    '{"s":"a\\"b\\\\c\\n"}',
  );
  assert.equal(
    json(false, (w) => w.value({ big: 2n ** 64n - 1n })),
    '{"big":18446744073709551615}',
  );
});

test("hex layouts: fprint_hex and the prog run dump", () => {
  assert.equal(fprintHex(new Uint8Array([1, 0, 0, 0])), "01 00 00 00");
  const b = Uint8Array.from({ length: 20 }, (_, i) => i);
  assert.equal(fprintHex(b), "00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f\n10 11 12 13");
  assert.equal(
    hexDump(new Uint8Array([0x41, 0x42, 0, 0xff, 0x7e])),
    `0000000\t4142 00ff 7e${" ".repeat(28)}| AB..~\n`,
  );
});

test("map and entry formatters print bpftool's lines", () => {
  const view: MapView = {
    id: 59,
    type: MapType.HASH,
    name: "counts",
    flags: 0,
    ifindex: 0,
    netnsDev: 0n,
    netnsIno: 0n,
    keySize: 4,
    valueSize: 8,
    maxEntries: 16,
    memlock: "2320",
    ownerProgType: undefined,
    ownerJited: undefined,
    frozen: true,
    btfId: 25,
    pinned: undefined,
  };
  assert.equal(
    mapPlain(view),
    "59: hash  name counts  flags 0x0\n\tkey 4B  value 8B  max_entries 16  memlock 2320B\n\tbtf_id 25  frozen\n",
  );
  const shape = { type: MapType.HASH, keySize: 4, valueSize: 8 };
  assert.equal(
    entryPlain(shape, { key: new Uint8Array([1, 0, 0, 0]), value: new Uint8Array(8) }),
    "key: 01 00 00 00  value: 00 00 00 00 00 00 00 00\n",
  );
  const pc = { type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 4 };
  assert.equal(
    entryPlain(pc, {
      key: new Uint8Array(4),
      values: [new Uint8Array(4), new Uint8Array([7, 0, 0, 0])],
    }),
    "key:\n00 00 00 00\nvalue (CPU 00): 00 00 00 00\nvalue (CPU 01): 07 00 00 00\n",
  );
});

test("prog formatter prints bpftool's lines", () => {
  const view: ProgView = {
    id: 485,
    type: ProgType.XDP,
    name: "xdp_count",
    tag: "2cfdddc59eb681c4",
    gplCompatible: true,
    runTimeNs: 0n,
    runCnt: 0n,
    recursionMisses: 0n,
    ifindex: 0,
    netnsDev: 0n,
    netnsIno: 0n,
    loadedAt: new Date(0),
    uid: 0,
    bytesXlated: 104,
    bytesJited: 81,
    memlock: "4096",
    mapIds: [59, 60],
    btfId: 25,
    pinned: ["/sys/fs/bpf/x"],
  };
  assert.equal(
    progPlain(view),
    `485: xdp  name xdp_count  tag 2cfdddc59eb681c4  gpl\n\tloaded_at ${formatLocalIso(new Date(0))}  uid 0\n` +
      "\txlated 104B  jited 81B  memlock 4096B  map_ids 59,60\n\tpinned /sys/fs/bpf/x\n\tbtf_id 25\n",
  );
  assert.match(formatLocalIso(new Date(0)), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$/);
});

test("prog load: file kinds and type names", () => {
  assert.equal(programFileKind(new TextEncoder().encode("r0 = 2\nexit\n")), "asm");
  assert.equal(programFileKind(new Uint8Array([0xb7, 0, 0, 0, 2, 0, 0, 0])), "raw");
  assert.equal(programFileKind(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1])), "elf");
  assert.deepEqual(progTypeByName("xdp"), {
    type: ProgType.XDP,
    expectedAttachType: AttachType.XDP,
  });
  assert.equal(progTypeByName("socket")?.type, ProgType.SOCKET_FILTER);
  assert.equal(progTypeByName("kprobe/do_exit")?.type, ProgType.KPROBE);
  assert.deepEqual(progTypeByName("cgroup/connect4"), {
    type: ProgType.CGROUP_SOCK_ADDR,
    expectedAttachType: AttachType.CGROUP_INET4_CONNECT,
  });
  assert.equal(progTypeByName("sched_cls")?.type, ProgType.SCHED_CLS);
  assert.equal(progTypeByName("nonsense"), undefined);
});

test("exit codes: 255, or 256 - errno where bpftool returns -errno", () => {
  assert.equal(new CliError("x").exitCode, 255);
  assert.equal(exitForErrno(2), 254);
  assert.equal(exitForErrno(17), 239);
  assert.equal(exitForErrno(524), 244);
  assert.equal(exitForErrno(undefined), 255);
});
