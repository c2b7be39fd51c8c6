/**
 * The playground's model in Node (no browser): program text with `.map` lines, errors
 * that name their line and column, object programs as editor text that assembles back
 * to the same instructions, the packet builder's checksums, and share links.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { caseLines, caseText } from "../playground/src/model/case-text.ts";
import { EXAMPLES } from "../playground/src/model/examples.ts";
import { readObject } from "../playground/src/model/object.ts";
import { buildPacket, DEFAULT_PACKET, parseHex, toHex } from "../playground/src/model/packet.ts";
import {
  defaultRecordType,
  HEX,
  recordText,
  recordTypes,
} from "../playground/src/model/records.ts";
import { objectRunner, runInput } from "../playground/src/model/run.ts";
import { decodeShare, encodeShare } from "../playground/src/model/share.ts";
import { assembleSource, SourceError, sourceCase } from "../playground/src/model/source.ts";
import { statesAt, verifyProgram } from "../playground/src/model/verify.ts";
import { entryBtf } from "../src/cli/btf/btf-value.ts";
import { JsonWriter } from "../src/cli/format/json-writer.ts";
import { MapType, ProgType } from "../src/uapi/index.ts";

const ROOT = resolve(import.meta.dirname, "..");

test(".map lines declare maps by index; instructions keep their editor lines", () => {
  const src = assembleSource(
    "; c\n.map counts array key=4 value=8 entries=1\nr1 = map[id:0]\n\nr0 = 0\nexit\n",
  );
  assert.deepEqual(src.maps, [
    { name: "counts", type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 },
  ]);
  // lddw takes two slots: its second has no line.
  assert.deepEqual(src.lineOfSlot, [3, undefined, 5, 6]);
  const c = sourceCase(src, ProgType.XDP);
  assert.equal(c.insns.length, 32);
  assert.equal(c.maps[0]?.spec.name, "counts");
});

test("errors name the line and column", () => {
  const cases: [string, RegExp][] = [
    ["r0 = 0\n.map m arrayy key=4\nexit", /^line 2, column 8: "arrayy" is not a map type/],
    [
      "r0 = 0\n.map m array key=4 vlaue=8\nexit",
      /^line 2, column 20: expected key=N, value=N or entries=N, found "vlaue=8"/,
    ],
    [".map 9bad array", /^line 1, column 6: \.map needs a name/],
    ["r0 = 0\n\n  r0 += \nexit", /^line 3, column 8: expected a register or an immediate/],
    ["; nothing\n", /^line 1, column 1: the program has no instructions/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => assembleSource(text),
      (e: unknown) => {
        assert.ok(e instanceof SourceError);
        assert.match(e.message, re);
        return true;
      },
    );
  }
});

test("every example assembles; the verdicts are those the examples promise", () => {
  for (const e of EXAMPLES) {
    const v = verifyProgram(sourceCase(assembleSource(e.text), ProgType.XDP));
    assert.equal(v.accepted, !e.title.includes("rejected"), e.id);
    if (!v.accepted) {
      assert.ok(
        v.path.length > 0 && v.path[v.path.length - 1] === v.insn,
        "the path ends at the error",
      );
      assert.equal(statesAt(v, v.insn!).length > 0, true);
    }
  }
});

test("object programs as text assemble back to the same instructions, in both syntaxes", () => {
  let n = 0;
  for (const d of readdirSync(join(ROOT, "examples"))) {
    const path = join(ROOT, "examples", d, `${d}.bpf.o`);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch {
      continue;
    }
    for (const p of readObject(bytes, path).programs) {
      if (!p.case) continue;
      for (const syntax of ["bpftool", "llvm"] as const) {
        const src = assembleSource(caseText(p.case, syntax));
        const again = sourceCase(src, p.case.progType);
        assert.deepEqual(
          Buffer.from(again.insns),
          Buffer.from(p.case.insns),
          `${d} ${p.name} ${syntax}`,
        );
        assert.deepEqual(src.lineOfSlot, caseLines(p.case));
        assert.deepEqual(
          again.maps.map((m) => m.spec),
          p.case.maps.map((m) => ({
            name: m.spec.name,
            type: m.spec.type,
            keySize: m.spec.keySize,
            valueSize: m.spec.valueSize,
            maxEntries: m.spec.maxEntries,
          })),
        );
        n++;
      }
    }
  }
  assert.ok(n >= 10, `${n} programs`);
  assert.throws(() => readObject(new Uint8Array([1, 2, 3, 4]), "x.o"), /x\.o: not an ELF object/);
});

/** The Internet checksum over `b` folds to 0xffff when its checksum field is right. */
function sumsToOnes(b: Uint8Array): boolean {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

test("built packets carry correct IPv4 and UDP/TCP checksums", () => {
  for (const proto of ["udp", "tcp"] as const) {
    for (const payload of ["", "hello", "odd"]) {
      const p = buildPacket({ ...DEFAULT_PACKET, proto, payload, tcpFlags: ["SYN", "ACK"] });
      assert.ok(sumsToOnes(p.subarray(14, 34)), `${proto} IPv4 header`);
      const l4 = p.subarray(34);
      const pseudo = new Uint8Array([
        ...p.subarray(26, 34),
        0,
        proto === "udp" ? 17 : 6,
        l4.length >> 8,
        l4.length & 0xff,
      ]);
      assert.ok(
        sumsToOnes(new Uint8Array([...pseudo, ...l4, ...(l4.length % 2 ? [0] : [])])),
        `${proto} "${payload}"`,
      );
      assert.equal(p.length, 14 + 20 + (proto === "udp" ? 8 : 20) + payload.length);
    }
  }
  assert.equal(
    buildPacket({ ...DEFAULT_PACKET, proto: "tcp", tcpFlags: ["SYN", "ACK"] })[47],
    0x12,
  );
  assert.throws(
    () => buildPacket({ ...DEFAULT_PACKET, srcIp: "10.0.0.256" }),
    /^Error: source IP: "10.0.0.256" is not an IPv4 address/,
  );
  assert.throws(
    () => buildPacket({ ...DEFAULT_PACKET, dstPort: 70000 }),
    /destination port: 70000/,
  );
  assert.throws(
    () => buildPacket({ ...DEFAULT_PACKET, proto: "tcp", tcpFlags: ["SYNN"] }),
    /"SYNN" is not one of/,
  );
  assert.deepEqual(parseHex("0x02:00 0a\n", "p"), new Uint8Array([2, 0, 10]));
  assert.throws(() => parseHex("abc", "packet"), /packet: odd number of hex digits \(3\)/);
  assert.equal(toHex(new Uint8Array(17)).split("\n").length, 2);
});

test("share links round-trip and damaged ones say what is wrong", () => {
  const s = {
    text: "r0 = 2 ; é ✓\nexit\n",
    type: "xdp",
    syntax: "llvm" as const,
    packet: "00 11",
    repeat: 5,
    engine: "interpret" as const,
  };
  const f = encodeShare(s);
  assert.match(f, /^#s=[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeShare(f), s);
  assert.equal(decodeShare(""), undefined);
  assert.equal(decodeShare("#other"), undefined);
  assert.throws(() => decodeShare("#s=AAAA"), /damaged/);
  const bad = encodeShare({ ...s, repeat: 0 });
  assert.throws(() => decodeShare(bad), /"repeat" is not a count/);
  const other = `#s=${Buffer.from(JSON.stringify({ v: 2 })).toString("base64url")}`;
  assert.throws(() => decodeShare(other), /another version/);
  // "Decode records as" travels with the link; a link without it has none.
  assert.deepEqual(decodeShare(encodeShare({ ...s, decodeAs: "event" })), {
    ...s,
    decodeAs: "event",
  });
  assert.equal(decodeShare(f)?.decodeAs, undefined);
  const badDecode = `#s=${Buffer.from(JSON.stringify({ v: 1, ...s, decodeAs: 3 })).toString("base64url")}`;
  assert.throws(() => decodeShare(badDecode), /"decodeAs" is not text/);
});

test("ring buffer records decode through the object's BTF as the CLI's map dump prints them", () => {
  const path = "examples/trace-open-ringbuf/trace-open-ringbuf.bpf.o";
  const obj = readObject(readFileSync(join(ROOT, path)), path);
  const btf = obj.spec.btf;
  const types = recordTypes(btf);
  assert.ok(types.some((t) => t.name === "sys_enter_openat_args"));
  assert.equal(defaultRecordType(types), "event");
  assert.equal(types.find((t) => t.name === "event")?.size, 288);
  // Several event-like names: no guess.
  assert.equal(defaultRecordType([...types, { name: "data_t", id: 1, size: 4 }]), HEX);
  assert.equal(defaultRecordType(types.filter((t) => t.name !== "event")), HEX);

  // A record the program writes in the VM, and one with known fields.
  const run = objectRunner(obj.spec, "trace_openat", "interpret").run({
    ctx: new Uint8Array(64),
    repeat: 1,
  });
  const written = run.ringbuf.find((r) => r.map === "events")?.records[0];
  assert.ok(written && written.length === 288);
  const known = new Uint8Array(288);
  const dv = new DataView(known.buffer);
  dv.setBigUint64(0, 123456789n, true);
  dv.setUint32(8, 4242, true);
  dv.setUint32(12, 4243, true);
  known.set(new TextEncoder().encode("bash"), 16);
  known.set(new TextEncoder().encode("/etc/passwd"), 32);

  const eventId = types.find((t) => t.name === "event")?.id ?? 0;
  for (const record of [written, known]) {
    // What `tsbpf map dump` writes for a map whose value is struct event, without the
    // entry's `"value": ` wrapper and one level of indentation.
    let cli = "";
    const w = new JsonWriter((t) => {
      cli += t;
    }, true);
    assert.ok(btf);
    entryBtf(
      w,
      { btf, keyTypeId: 0, valueTypeId: eventId },
      { key: new Uint8Array(), value: record },
      true,
    );
    const unwrapped = cli
      .replace(/^\{\n {4}"value": /, "")
      .replace(/\n\}$/, "")
      .replaceAll("\n    ", "\n");
    assert.equal(recordText(btf, types, "event", record), unwrapped);
  }
  const text = recordText(btf, types, "event", known) ?? "";
  assert.match(text, /"pid": 4242,/);
  assert.match(text, /"comm": "bash",/);
  assert.match(text, /"file": "\/etc\/passwd"/);
  assert.equal(recordText(btf, types, HEX, known), undefined);
  assert.equal(
    recordText(btf, types, "event", known.subarray(0, 20)),
    "(20 bytes: shorter than struct event, which is 288 bytes)",
  );
  const longer = new Uint8Array(290);
  longer.set(known);
  assert.equal(recordText(btf, types, "event", longer), `${text}\n(and 2 more bytes)`);
});

test("a tracepoint runs on the Context while the Packet field holds the default packet", () => {
  const path = "examples/trace-open-ringbuf/trace-open-ringbuf.bpf.o";
  const obj = readObject(readFileSync(join(ROOT, path)), path);
  const ctx = new Uint8Array(64);
  const packet = buildPacket(DEFAULT_PACKET);
  const input = runInput(ProgType.TRACEPOINT, packet, ctx, 1);
  assert.deepEqual(input, { ctx, repeat: 1 });
  // The VM refuses a record given both ways: the page no longer gives it both.
  const runner = objectRunner(obj.spec, "trace_openat", "interpret");
  assert.throws(() => runner.run({ data: packet, ctx, repeat: 1 }), /not both/);
  assert.equal(runner.run(input).ringbuf.find((r) => r.map === "events")?.records.length, 1);
  // Without a Context, a tracepoint's raw record is the Packet's bytes.
  assert.deepEqual(runInput(ProgType.TRACEPOINT, packet, undefined, 2), {
    data: packet,
    repeat: 2,
  });
  // Packet programs keep both.
  assert.deepEqual(runInput(ProgType.SCHED_CLS, packet, ctx, 1), {
    data: packet,
    ctx,
    repeat: 1,
  });
});
