/**
 * `tsbpf prog attach|detach` on real objects, with bpftool 7.1 as the reference: an
 * sk_msg verdict on a sockhash and sk_skb verdicts and parser on a sockmap (what the
 * kernel's BPF_PROG_QUERY on the map then lists), a flow dissector on the test's own
 * network namespace (what `bpftool net show` then lists), attachments made by one tool
 * removed by the other, and every malformed or refused command printing bpftool's
 * message with its exit status, in plain text and JSON.
 */
import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { CURRENT_NETNS } from "../src/kernel/links/netns.ts";
import { progDetach, progQuery } from "../src/kernel/links/prog-attach.ts";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { AttachType, MapType, ProgType } from "../src/uapi/index.ts";
import {
  assertSameRun,
  bpftool,
  compareSkip,
  fdSnapshot,
  pinDir,
  type Run,
  tsbpf,
} from "./cli-run.ts";
import { needs } from "./support/kernel.ts";
import { enterTestNetns } from "./support/netns.ts";

const skip = needs(compareSkip, compareSkip ? false : enterTestNetns());

/** `r0 = 1; exit` (SK_PASS; for a flow dissector, BPF_DROP... never run here). */
const RET1 = new Uint8Array([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

let pins = { dir: "", cleanup: () => {} };
const progs: Record<string, Program> = {};
const maps: Record<string, BpfMap> = {};

before(() => {
  if (skip) return;
  pins = pinDir("prog-attach");
  const load = (name: string, type: ProgType) => {
    const p = Program.load({ name, type, license: "GPL", instructions: RET1 });
    progs[name] = p;
    p.pin(`${pins.dir}/${name}`);
  };
  load("pa_msg", ProgType.SK_MSG);
  load("pa_skb", ProgType.SK_SKB);
  load("pa_dissect", ProgType.FLOW_DISSECTOR);
  const map = (name: string, type: MapType) => {
    const m = BpfMap.create({ name, type, keySize: 4, valueSize: 4, maxEntries: 8 });
    maps[name] = m;
    m.pin(`${pins.dir}/${name}`);
  };
  map("pa_hash", MapType.SOCKHASH);
  map("pa_sockmap", MapType.SOCKMAP);
  map("pa_array", MapType.ARRAY);
});

after(() => {
  // Whatever a failed test left attached goes with its target; detach it anyway.
  for (const [map, type] of [
    ["pa_hash", AttachType.SK_MSG_VERDICT],
    ["pa_sockmap", AttachType.SK_SKB_VERDICT],
    ["pa_sockmap", AttachType.SK_SKB_STREAM_VERDICT],
    ["pa_sockmap", AttachType.SK_SKB_STREAM_PARSER],
  ] as const) {
    const m = maps[map];
    if (!m) continue;
    for (const id of progQuery(m.fd, type, map).progIds) {
      const p = Object.values(progs).find((q) => q.id === id);
      if (p) progDetach(p, m.fd, type, map);
    }
  }
  if (progs.pa_dissect && attachedToNetns().length > 0) {
    progDetach(progs.pa_dissect, 0, AttachType.FLOW_DISSECTOR, "this namespace");
  }
  for (const p of Object.values(progs)) p.close();
  for (const m of Object.values(maps)) m.close();
  pins.cleanup();
});

const pinned = (name: string) => ["pinned", `${pins.dir}/${name}`];

/** Runs tsbpf in-process and checks it leaks no descriptor. */
async function run(...args: string[]): Promise<Run> {
  const before = fdSnapshot();
  const r = await tsbpf(...args);
  assert.deepEqual(fdSnapshot(), before, `descriptors leaked by tsbpf ${args.join(" ")}`);
  return r;
}

/** Asserts a command succeeded as bpftool's does: no output (`null` with -j), exit 0. */
async function ok(...args: string[]): Promise<void> {
  const r = await run(...args);
  const json = args.includes("-j") || args.includes("-p");
  assert.deepEqual(r, { code: 0, stdout: json ? "null\n" : "", stderr: "" }, args.join(" "));
}

/** Program ids BPF_PROG_QUERY lists on map `name` for `type`. */
const attachedTo = (name: string, type: number) => progQuery(maps[name]!.fd, type, name).progIds;

/** Program ids attached as this network namespace's flow dissector. */
function attachedToNetns(): number[] {
  const ns = openSync(CURRENT_NETNS, "r");
  try {
    return progQuery(ns, AttachType.FLOW_DISSECTOR, "this namespace").progIds;
  } finally {
    closeSync(ns);
  }
}

describe("prog attach and detach", { skip }, () => {
  test("sk_msg_verdict on a sockhash: attached, listed by BPF_PROG_QUERY, detached", async () => {
    const msg = progs.pa_msg!;
    for (const [mode, type] of [
      [[], "sk_msg_verdict"],
      [["-j"], "msg_verdict"],
      [["-p"], "m"],
    ] as const) {
      await ok(...mode, "prog", "attach", ...pinned("pa_msg"), type, ...pinned("pa_hash"));
      assert.deepEqual(attachedTo("pa_hash", AttachType.SK_MSG_VERDICT), [msg.id]);
      // By id and by name this time.
      await ok(...mode, "prog", "detach", "id", String(msg.id), type, "name", "pa_hash");
      assert.deepEqual(attachedTo("pa_hash", AttachType.SK_MSG_VERDICT), []);
    }
  });

  test("sk_skb verdict, stream verdict and stream parser on a sockmap", async () => {
    const skb = progs.pa_skb!;
    for (const [name, type] of [
      ["sk_skb_verdict", AttachType.SK_SKB_VERDICT],
      ["sk_skb_stream_verdict", AttachType.SK_SKB_STREAM_VERDICT],
      ["sk_skb_stream_parser", AttachType.SK_SKB_STREAM_PARSER],
    ] as const) {
      await ok("prog", "attach", ...pinned("pa_skb"), name, ...pinned("pa_sockmap"));
      assert.deepEqual(attachedTo("pa_sockmap", type), [skb.id], name);
      await ok("prog", "detach", ...pinned("pa_skb"), name, ...pinned("pa_sockmap"));
      assert.deepEqual(attachedTo("pa_sockmap", type), [], name);
    }
  });

  test("what one tool attaches, the other detaches", async () => {
    const args = ["prog", "attach", ...pinned("pa_msg"), "sk_msg_verdict", ...pinned("pa_hash")];
    assert.equal(bpftool(...args).code, 0);
    assert.deepEqual(attachedTo("pa_hash", AttachType.SK_MSG_VERDICT), [progs.pa_msg!.id]);
    await ok("prog", "detach", ...args.slice(2));
    assert.deepEqual(attachedTo("pa_hash", AttachType.SK_MSG_VERDICT), []);
    await ok(...args);
    assert.deepEqual(bpftool("prog", "detach", ...args.slice(2)).code, 0);
    assert.deepEqual(attachedTo("pa_hash", AttachType.SK_MSG_VERDICT), []);
  });

  test("flow_dissector on this network namespace, as bpftool net show lists it", async () => {
    const id = progs.pa_dissect!.id;
    assert.deepEqual(attachedToNetns(), []);
    // Words after flow_dissector are ignored, as bpftool ignores them.
    await ok("prog", "attach", ...pinned("pa_dissect"), "flow_dissector", "ignored");
    assert.deepEqual(attachedToNetns(), [id]);
    assert.match(bpftool("net", "show").stdout, new RegExp(`\nflow_dissector:\nid ${id}\n`));
    assert.match(
      bpftool("-j", "net", "show").stdout,
      new RegExp(`"flow_dissector":\\["id":${id}\\]`),
    );
    // tsbpf's own net show agrees (plain and JSON).
    for (const mode of [[], ["-j"]]) {
      const args = [...mode, "net", "show"];
      assertSameRun(await run(...args), bpftool(...args), args.join(" "));
    }
    // The same program again: the kernel refuses (EINVAL), and both tools say so alike.
    const again = ["-j", "prog", "attach", ...pinned("pa_dissect"), "flow_dissector"];
    assertSameRun(await run(...again), bpftool(...again), again.join(" "));
    assert.equal(bpftool(...again).code, 234);
    assert.deepEqual(attachedToNetns(), [id]);
    await ok("prog", "detach", ...pinned("pa_dissect"), "flow_dissector");
    assert.deepEqual(attachedToNetns(), []);
    assert.match(bpftool("net", "show").stdout, /\nflow_dissector:\n\n?$/);
  });

  test("malformed and refused commands fail as bpftool's do", async () => {
    const id = String(progs.pa_msg!.id);
    const cases: string[][] = [
      ["attach"],
      ["detach"],
      ["attach", ...pinned("pa_msg")],
      ["attach", ...pinned("pa_msg"), "sk_msg_verdict"],
      ["attach", ...pinned("pa_msg"), "sk_msg_verdict", "pinned"],
      ["attach", "id", id, "sk_msg_verdict", "id"],
      ["attach", ...pinned("pa_msg"), "bogus", ...pinned("pa_hash")],
      ["attach", ...pinned("pa_msg"), "sk_", ...pinned("pa_hash")],
      ["attach", ...pinned("pa_msg"), "sk_msg", ...pinned("pa_hash")],
      ["detach", ...pinned("pa_msg"), "verdict", ...pinned("pa_hash")],
      // MAP not a sockmap; the wrong program type for the hook; not attached.
      ["attach", ...pinned("pa_msg"), "sk_msg_verdict", ...pinned("pa_array")],
      ["attach", ...pinned("pa_msg"), "sk_skb_verdict", ...pinned("pa_hash")],
      ["attach", ...pinned("pa_skb"), "sk_msg_verdict", ...pinned("pa_sockmap")],
      ["attach", ...pinned("pa_msg"), "flow_dissector"],
      ["attach", ...pinned("pa_msg"), "", ...pinned("pa_hash")],
      ["detach", ...pinned("pa_msg"), "sk_msg_verdict", ...pinned("pa_hash")],
      ["detach", ...pinned("pa_skb"), "s", ...pinned("pa_sockmap")],
      ["detach", ...pinned("pa_dissect"), "flow_dissector"],
      // Selectors: no such object, the wrong kind, an unknown keyword.
      ["attach", "id", "4294967295", "sk_msg_verdict", ...pinned("pa_hash")],
      ["attach", ...pinned("pa_msg"), "sk_msg_verdict", "id", "4294967295"],
      ["attach", ...pinned("pa_hash"), "sk_msg_verdict", ...pinned("pa_hash")],
      ["attach", ...pinned("pa_msg"), "sk_msg_verdict", ...pinned("pa_msg")],
      ["attach", "bogus", "x", "sk_msg_verdict"],
      ["detach", ...pinned("pa_msg"), "sk_msg_verdict", "bogus", "x"],
      ["attach", ...pinned("nothing"), "sk_msg_verdict", ...pinned("pa_hash")],
    ];
    for (const mode of [[], ["-j"]]) {
      for (const c of cases) {
        const args = [...mode, "prog", ...c];
        const t = await run(...args);
        assertSameRun(t, bpftool(...args), args.join(" "));
        assert.notEqual(t.code, 0, args.join(" "));
      }
    }
    assert.deepEqual(attachedTo("pa_hash", AttachType.SK_MSG_VERDICT), []);
    assert.deepEqual(attachedTo("pa_sockmap", AttachType.SK_SKB_VERDICT), []);
    assert.deepEqual(attachedToNetns(), []);
  });

  test("prog help lists attach, detach and the attach types as bpftool's does", async () => {
    const mine = (await run("prog", "help")).stdout;
    const theirs = bpftool("prog", "help").stderr.replaceAll(/\S*bpftool /g, "tsbpf ");
    for (const text of [mine, theirs]) {
      assert.match(text, /\n {7}tsbpf prog attach PROG ATTACH_TYPE \[MAP\]\n/);
      assert.match(text, /\n {7}tsbpf prog detach PROG ATTACH_TYPE \[MAP\]\n/);
    }
    const types = (s: string) => /\n( {7}ATTACH_TYPE := [^}]*\}\n)/.exec(s)?.[1];
    assert.equal(types(mine), types(theirs));
    assert.notEqual(types(mine), undefined);
  });
});
