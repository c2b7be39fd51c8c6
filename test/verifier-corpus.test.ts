/**
 * scripts/verifier-corpus-lib.ts: a selftests program's expectations from its BTF decl
 * tags (the way test_loader.c reads them), `__msg` matching with `{{regex}}` parts, and
 * libbpf's load conventions (SEC("?...") and ring buffer sizes). No kernel needed. When
 * the corpus has been built, kernelErrorLine's rule is checked on every rejected log.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import {
  asLibbpfLoads,
  expectations,
  msgsMatch,
  ringbufSize,
  TESTING_FLAGS,
} from "../scripts/verifier-corpus-lib.ts";
import { encodeTypes, parseBTF } from "../src/btf/index.ts";
import type { BTFType } from "../src/btf/types.ts";
import { kernelErrorLine } from "../src/kernel/programs/verifier-log.ts";
import type { CollectionSpec } from "../src/spec/collection-spec.ts";
import { AttachType, MapType, ProgLoadFlags, ProgType } from "../src/uapi/index.ts";

/** BTF with FUNCs `f` (id 3) and `g` (id 4), and `tags` on f (component -1 unless given). */
function btfWith(tags: readonly (string | [string, number, number?])[]) {
  const types: Record<string, unknown>[] = [
    {
      kind: "INT",
      name: "int",
      size: 4,
      signed: true,
      char: false,
      bool: false,
      bitOffset: 0,
      bits: 32,
    },
    { kind: "FUNC_PROTO", name: "", returnType: 1, params: [] },
    { kind: "FUNC", name: "f", type: 2, linkage: "global" },
    { kind: "FUNC", name: "g", type: 2, linkage: "global" },
  ];
  for (const t of tags) {
    const [name, target, component] = typeof t === "string" ? [t, 3, -1] : [t[0], t[1], t[2] ?? -1];
    types.push({ kind: "DECL_TAG", name, type: target, componentIdx: component } as Omit<
      BTFType,
      "id"
    >);
  }
  return parseBTF(encodeTypes(types.map((t, i) => ({ ...t, id: i + 1 }) as unknown as BTFType)));
}

describe("expectations", () => {
  test("__failure with ordered __msg, __flag set and cleared, __log_level, __description", () => {
    const e = expectations(
      btfWith([
        "comment:test_description=a test",
        "comment:test_expect_failure",
        "comment:test_expect_msg=12=second",
        "comment:test_expect_msg=3=first",
        "comment:test_prog_flags=BPF_F_ANY_ALIGNMENT",
        "comment:test_prog_flags=!BPF_F_TEST_RND_HI32",
        "comment:test_prog_flags=8",
        "comment:test_log_level=2",
        // on g, or on a parameter of f: not f's
        ["comment:test_expect_success", 4],
        ["comment:test_expect_msg_unpriv=1=param", 3, 0],
      ]),
      "f",
    );
    assert.deepEqual(e, {
      description: "a test",
      modes: ["priv"],
      priv: { failure: true, msgs: ["first", "second"] },
      unpriv: { failure: false, msgs: [] },
      logLevel: 2,
      flags:
        ((TESTING_FLAGS & ~ProgLoadFlags.TEST_RND_HI32) |
          ProgLoadFlags.ANY_ALIGNMENT |
          ProgLoadFlags.TEST_STATE_FREQ) >>>
        0,
      auxiliary: false,
      arch: [],
    });
  });

  test("no tags: a privileged success test; unprivileged tags add that mode", () => {
    const plain = expectations(btfWith([]), "f");
    assert.deepEqual(plain?.modes, ["priv"]);
    assert.equal(plain?.priv.failure, false);
    assert.equal(plain?.flags, TESTING_FLAGS);
    const both = expectations(
      btfWith([
        "comment:test_expect_success",
        "comment:test_expect_failure_unpriv",
        "comment:test_expect_msg_unpriv=7=R1 leaks addr",
        "comment:test_retval=1",
        "comment:test_arch=ARM64",
      ]),
      "f",
    );
    assert.deepEqual(both?.modes, ["priv", "unpriv"]);
    assert.deepEqual(both?.unpriv, { failure: true, msgs: ["R1 leaks addr"] });
    assert.equal(both?.priv.retval, "1");
    assert.deepEqual(both?.arch, ["ARM64"]);
    const unprivOnly = expectations(btfWith(["comment:test_expect_failure_unpriv"]), "f");
    assert.deepEqual(unprivOnly?.modes, ["unpriv"]);
    assert.equal(expectations(btfWith(["comment:test_auxiliary"]), "f")?.auxiliary, true);
    assert.equal(expectations(btfWith([]), "nope"), undefined);
  });
});

describe("msgsMatch", () => {
  const log = "0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000)\n";
  test("patterns in order, each after the last match", () => {
    assert.equal(msgsMatch(log, ["(95) exit", "R0 !read_ok"]), 2);
    assert.equal(msgsMatch(log, ["R0 !read_ok", "(95) exit"]), 1);
    assert.equal(msgsMatch(log, []), 0);
    assert.equal(msgsMatch(log, ["nothing"]), 0);
  });
  test("{{regex}} parts; the rest is verbatim (brackets, dots, parens)", () => {
    assert.equal(msgsMatch(log, ["processed {{[0-9]+}} insns (limit"]), 1);
    assert.equal(msgsMatch(log, ["0: (95) exit{{$}}"]), 1);
    assert.equal(msgsMatch(log, ["processed {{[a-z]+}} insns"]), 0);
    assert.equal(msgsMatch(log, ["open {{ never closed"]), 0);
    assert.equal(msgsMatch("a.c", ["a.c"]), 1);
    assert.equal(msgsMatch("abc", ["a.c{{}}"]), 0);
  });
});

describe("libbpf's load conventions", () => {
  test("ring buffer sizes round up to a power-of-2 number of pages", () => {
    assert.deepEqual(
      [0, 8, 4096, 4097, 8192, 12288, 16384].map(ringbufSize),
      [0, 4096, 4096, 8192, 8192, 16384, 16384],
    );
  });

  test('SEC("?name") is SEC("name")\'s type; ring buffers resized; others untouched', () => {
    const prog = {
      name: "p",
      type: ProgType.UNSPEC,
      license: "GPL",
      instructions: new Uint8Array(8),
    };
    const spec = {
      programs: {
        p: { ...prog, section: "?raw_tp" },
        q: { ...prog, name: "q", section: "?cgroup/connect4" },
        r: { ...prog, name: "r", type: ProgType.XDP, section: "xdp" },
      },
      maps: {
        ring: { name: "ring", type: MapType.USER_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 8 },
        arr: { name: "arr", type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 8 },
      },
      variables: {},
      externs: [],
      license: "GPL",
    } as unknown as CollectionSpec;
    const out = asLibbpfLoads(spec);
    assert.equal(out.programs.p?.type, ProgType.RAW_TRACEPOINT);
    assert.equal(out.programs.q?.type, ProgType.CGROUP_SOCK_ADDR);
    assert.equal(out.programs.q?.expectedAttachType, AttachType.CGROUP_INET4_CONNECT);
    assert.equal(out.programs.q?.section, "?cgroup/connect4");
    assert.equal(out.programs.r, spec.programs.r);
    assert.equal(out.maps.ring?.maxEntries, 4096);
    assert.equal(out.maps.arr, spec.maps.arr);
  });
});

const CORPUS = join(import.meta.dirname, "../.cache/verifier-corpus/corpus.json");

describe("the error-line rule on the kernel's own logs", {
  skip: existsSync(CORPUS)
    ? false
    : "no .cache/verifier-corpus/corpus.json: run node --import tsx scripts/verifier-corpus.ts first",
}, () => {
  test("every rejected selftests program has an error line, and it (or its block) holds the last plain __msg", () => {
    const corpus = JSON.parse(readFileSync(CORPUS, "utf8")) as {
      programs: {
        file: string;
        program: string;
        expect: { priv: { msgs: string[] } };
        kernel?: { accepted: boolean };
      }[];
    };
    let rejected = 0;
    let plain = 0;
    let held = 0;
    for (const p of corpus.programs) {
      if (!p.kernel || p.kernel.accepted) continue;
      const logFile = join(dirname(CORPUS), "logs", p.file.replace(/\.c$/, ""), `${p.program}.log`);
      const line = kernelErrorLine(readFileSync(logFile, "utf8"));
      rejected++;
      assert.ok(line.message, `${logFile}: no error line`);
      assert.equal(line.message, line.lines[0]);
      const last = p.expect.priv.msgs.at(-1);
      if (last === undefined || last.includes("{{")) continue;
      plain++;
      if (line.lines.some((l) => l.includes(last))) held++;
    }
    assert.ok(rejected >= 400, `${rejected} rejected programs`);
    // the rest are 6.12 wordings a newer kernel changed
    assert.ok(held >= plain * 0.95, `${held} of ${plain}`);
  });
});
