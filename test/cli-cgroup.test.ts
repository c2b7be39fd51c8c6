/**
 * `tsbpf cgroup` side by side with bpftool 7.1 on a cgroup tree this test makes (a
 * root, a child and a grandchild under the cgroup2 mount): show, list and tree print
 * byte for byte as bpftool prints them (plain, -j, -p; effective or not) whichever tool
 * attached the programs; attach and detach in exclusive, override and multi mode act
 * on what bpftool then reads; bad input fails with bpftool's message (tsbpf adds the
 * cause after it) and exit status, and leaves nothing attached.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmdirSync } from "node:fs";
import { after, afterEach, before, describe, test } from "node:test";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { CGROUP_ATTACH_TYPES, detachCgroup, queryCgroup } from "../src/kernel/links/cgroup.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { AttachType, ProgType } from "../src/uapi/index.ts";
import {
  assertSameRun,
  bpftool,
  compareSkip,
  compareWithBpftool,
  fdSnapshot,
  pinDir,
  type Run,
  tsbpf,
} from "./cli-run.ts";
import { cgroup2Root, cgroupSkip, needs, testCgroupPath } from "./support/kernel.ts";

const skip = needs(compareSkip, cgroupSkip());
const root = cgroup2Root() ? testCgroupPath("tsbpf-cli-cgroup") : "";
const child = `${root}/child`;
const grand = `${child}/grand`;
const progs = new Map<string, Program>();
let pins = { dir: "", cleanup: () => {} };

const ret = (v: number) => encodeProgram(assemble(`r0 = ${v}\nexit`));
const KINDS = {
  skb: [ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS],
  dev: [ProgType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE],
  sock: [ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE],
} as const;

/** `pinned PATH` of a program this test loaded. */
const pin = (name: string) => ["pinned", `${pins.dir}/${name}`];

before(() => {
  if (skip) return;
  pins = pinDir("cgroup");
  mkdirSync(grand, { recursive: true });
  const load = (name: string, kind: keyof typeof KINDS) => {
    const [type, expectedAttachType] = KINDS[kind];
    const p = Program.load({
      name,
      type,
      license: "GPL",
      instructions: ret(1),
      expectedAttachType,
    });
    p.pin(`${pins.dir}/${name}`);
    progs.set(name, p);
  };
  load("egress_a", "skb");
  load("egress_b", "skb");
  load("egress_long_program_name", "skb");
  load("dev", "dev");
  load("sock", "sock");
});

after(() => {
  for (const p of progs.values()) p.close();
  pins.cleanup();
  // Removing a cgroup releases the programs attached to it.
  for (const dir of [grand, child, root]) {
    try {
      rmdirSync(dir);
    } catch {
      // not created
    }
  }
});

/** Every program attached to `dir`, by attach type name (empty when none). */
function attached(dir: string): string[] {
  const out: string[] = [];
  for (const t of CGROUP_ATTACH_TYPES.keys()) {
    try {
      for (const p of queryCgroup(dir, t).programs) out.push(`${t}:${p.id}:${p.attachFlags}`);
    } catch {
      // a type this kernel does not know
    }
  }
  return out;
}

/** Detaches everything from the test's cgroups, so each test starts clean. */
function detachAll(): void {
  for (const dir of [grand, child, root]) {
    for (const t of CGROUP_ATTACH_TYPES.keys()) {
      let ids: number[] = [];
      try {
        ids = queryCgroup(dir, t).programs.map((p) => p.id);
      } catch {
        continue;
      }
      for (const id of ids) {
        const prog = [...progs.values()].find((p) => p.id === id);
        assert.ok(prog, `program ${id} on ${dir} is this test's`);
        detachCgroup(prog, dir, t);
      }
    }
    assert.deepEqual(attached(dir), [], `${dir} left clean`);
  }
}

/** Runs tsbpf in-process and checks it leaks no descriptor. */
async function run(...args: string[]): Promise<Run> {
  const before = fdSnapshot();
  const r = await tsbpf(...args);
  assert.deepEqual(fdSnapshot(), before, `descriptors leaked by tsbpf ${args.join(" ")}`);
  return r;
}

/** bpftool's and tsbpf's run of `args`, in that order. */
async function both(...args: string[]): Promise<{ b: Run; t: Run }> {
  const b = bpftool(...args);
  const t = await run(...args);
  return { b, t };
}

/** The show and tree commands, each in plain, -j and -p, identical to bpftool's. */
async function compareShows(): Promise<void> {
  const commands = [
    ["cgroup", "show", root],
    ["cgroup", "show", root, "effective"],
    ["cgroup", "list", child],
    ["cgroup", "show", child, "eff"],
    ["cgroup", "show", grand, "effective"],
    ["cgroup", "tree", root],
    ["cgroup", "tree", root, "effective"],
    ["cgroup", "tree", `${root}//`],
    ["cgroup", "tree", child, "e"],
  ];
  for (const c of commands) await compareWithBpftool(c);
  // Without a root: the whole cgroup2 mount, where other tests come and go meanwhile;
  // our cgroups print there as under their own root, one level deeper (indented).
  const whole = await run("cgroup", "tree");
  const ours = await run("cgroup", "tree", root);
  assert.equal(whole.code, 0, whole.stderr);
  const section = ours.stdout
    .split("\n")
    .slice(2)
    .map((l) => (l === "" || l.startsWith("/") || l.startsWith("    ") ? l : `    ${l}`))
    .join("\n");
  assert.ok(whole.stdout.includes(section), `${whole.stdout} holds ${section}`);
}

describe("cgroup show and tree", { skip }, () => {
  afterEach(() => detachAll());

  test("programs bpftool attached print as bpftool prints them", async () => {
    const attach = (...a: string[]) => assert.equal(bpftool("cgroup", "attach", ...a).code, 0);
    attach(root, "egress", ...pin("egress_a"), "multi");
    attach(root, "cgroup_inet_egress", ...pin("egress_long_program_name"), "multi");
    attach(child, "device", ...pin("dev"), "override");
    attach(grand, "sock_create", ...pin("sock"));
    attach(grand, "egress", ...pin("egress_b"), "multi");
    await compareShows();
    const t = await run("cgroup", "show", root);
    assert.match(t.stdout, /cgroup_inet_egress multi +egress_a/);
  });

  test("programs tsbpf attached print as bpftool prints them", async () => {
    const attach = async (...a: string[]) => {
      const r = await run("cgroup", "attach", ...a);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""], a.join(" "));
    };
    await attach(root, "egress", ...pin("egress_a"), "multi");
    await attach(root, "eg", ...pin("egress_b"), "m");
    await attach(child, "cgroup_device", ...pin("dev"), "override");
    await attach(grand, "sock_create", ...pin("sock"));
    await compareShows();
    // bpftool's words for the modes, read back by the kernel
    const flags = (dir: string, t: number) =>
      queryCgroup(dir, t).programs.map((p) => p.attachFlags);
    assert.deepEqual(flags(root, AttachType.CGROUP_INET_EGRESS), [2, 2]);
    assert.deepEqual(flags(child, AttachType.CGROUP_DEVICE), [1]);
    assert.deepEqual(flags(grand, AttachType.CGROUP_INET_SOCK_CREATE), [0]);
  });

  test("an empty cgroup prints nothing; the tree prints its header", async () => {
    await compareShows();
    assert.equal((await run("cgroup", "show", root)).stdout, "");
    assert.equal((await run("-j", "cgroup", "show", root)).stdout, "\n");
  });
});

describe("cgroup attach and detach", { skip }, () => {
  afterEach(() => detachAll());

  test("-j prints null; detach by tsbpf of what bpftool attached, and back", async () => {
    const r = await run("-j", "cgroup", "attach", root, "egress", ...pin("egress_a"), "multi");
    assert.deepEqual([r.code, r.stdout], [0, "null\n"]);
    const id = progs.get("egress_a")?.id;
    assert.deepEqual(attached(root), [`${AttachType.CGROUP_INET_EGRESS}:${id}:2`]);
    assert.equal(bpftool("cgroup", "detach", root, "egress", ...pin("egress_a")).code, 0);
    assert.equal(bpftool("cgroup", "attach", root, "egress", ...pin("egress_b")).code, 0);
    const d = await run("-p", "cgroup", "detach", root, "egress", ...pin("egress_b"));
    assert.deepEqual([d.code, d.stdout, d.stderr], [0, "null\n", ""]);
    assert.deepEqual(attached(root), []);
  });

  test("exclusive over exclusive replaces the program, as the kernel does", async () => {
    for (const name of ["egress_a", "egress_b"]) {
      const r = await run("cgroup", "attach", root, "egress", ...pin(name));
      assert.equal(r.code, 0, r.stderr);
    }
    const id = progs.get("egress_b")?.id;
    assert.deepEqual(attached(root), [`${AttachType.CGROUP_INET_EGRESS}:${id}:0`]);
  });

  test("override below override; a child's own program replaces the parent's there", async () => {
    for (const [dir, name] of [
      [root, "egress_a"],
      [child, "egress_b"],
    ] as const) {
      const r = await run("cgroup", "attach", dir, "egress", ...pin(name), "override");
      assert.equal(r.code, 0, r.stderr);
    }
    const t = await run("cgroup", "show", child, "effective");
    assert.match(t.stdout, /egress_b/);
    assert.doesNotMatch(t.stdout, /egress_a/);
    await compareWithBpftool(["cgroup", "tree", root, "effective"]);
  });

  /** Runs a failing command with both tools on the same state: same status, same start. */
  async function failsAlike(args: string[], cause?: RegExp): Promise<void> {
    const before = [root, child, grand].map(attached);
    const b = bpftool(...args);
    assert.deepEqual([root, child, grand].map(attached), before, "bpftool changed nothing");
    const t = await run(...args);
    assert.deepEqual([root, child, grand].map(attached), before, "tsbpf changed nothing");
    assert.notEqual(b.code, 0, `bpftool ${args.join(" ")} failed`);
    assert.equal(t.code, b.code, `${args.join(" ")}: exit code`);
    if (cause && b.stdout.startsWith('{"error"')) {
      // JSON mode: the error object on stdout, with the cause after bpftool's words
      const said = (JSON.parse(b.stdout) as { error: string }).error;
      const error = (JSON.parse(t.stdout) as { error: string }).error;
      assert.ok(error.startsWith(said), `${error} starts with ${said}`);
      assert.match(error, cause);
      return;
    }
    assert.equal(t.stdout, b.stdout, `${args.join(" ")}: stdout`);
    if (cause) {
      const said = b.stderr.trimEnd();
      assert.ok(t.stderr.startsWith(said), `${t.stderr} starts with ${said}`);
      assert.match(t.stderr, cause);
    } else {
      assert.equal(t.stderr, b.stderr, `${args.join(" ")}: stderr`);
    }
  }

  test("bad input fails as bpftool's does and leaves nothing attached", async () => {
    const nowhere = `${root}-missing`;
    await failsAlike(["cgroup", "attach", root, "egress"]);
    await failsAlike(["cgroup", "detach", root, "egress", "id"]);
    await failsAlike(["cgroup", "attach", nowhere, "egress", ...pin("egress_a")]);
    await failsAlike(["cgroup", "detach", nowhere, "egress", ...pin("egress_a")]);
    await failsAlike(["cgroup", "attach", root, "egres", "id", "0x7fffffff"]);
    await failsAlike(["cgroup", "attach", root, "no_such_type", ...pin("egress_a")]);
    // which words name an attach type (the program is missing either way)
    for (const word of ["eg", "", "i", "sock", "cgroup_inet_e", "egressx", "xdp", "lsm_cgroup"]) {
      await failsAlike(["cgroup", "attach", root, word, "id", "0x7fffffff"]);
    }
    await failsAlike(["cgroup", "attach", root, "egress", ...pin("egress_a"), "sideways"]);
    await failsAlike(["cgroup", "attach", root, "egress", "pinned", `${pins.dir}/none`]);
    await failsAlike(["cgroup", "show", nowhere]);
    await failsAlike(["cgroup", "show", root, "effective", "effective"]);
    await failsAlike(["cgroup", "tree", root, "sideways"]);
    await failsAlike(["cgroup", "tree", nowhere]);
    await failsAlike(["-j", "cgroup", "tree", nowhere]);
    await failsAlike(["cgroup", "show", "/proc"]);
    // the kernel refuses: bpftool says no more than "failed to ...", tsbpf says why
    await failsAlike(
      ["cgroup", "attach", root, "egress", ...pin("dev")],
      /a cgroup_device program cannot attach to cgroup_inet_egress/,
    );
    await failsAlike(
      ["cgroup", "attach", root, "ingress", ...pin("egress_a"), "multi", "override"],
      /multi and override do not go together/,
    );
    await failsAlike(
      ["cgroup", "detach", root, "egress", ...pin("egress_a")],
      /No such file or directory \(it is not attached there\)/,
    );
    // an exclusive program in the parent: nothing may attach below it
    assert.equal(bpftool("cgroup", "attach", root, "egress", ...pin("egress_a")).code, 0);
    for (const mode of [[], ["multi"], ["override"]]) {
      await failsAlike(
        ["cgroup", "attach", child, "egress", ...pin("egress_b"), ...mode],
        /parent cgroup .* has program \d+ attached in exclusive mode/,
      );
    }
    // programs of another mode here
    await failsAlike(
      ["cgroup", "attach", root, "egress", ...pin("egress_b"), "multi"],
      /attached there in exclusive mode/,
    );
    detachAll();
    assert.equal(bpftool("cgroup", "attach", root, "egress", ...pin("egress_a"), "multi").code, 0);
    await failsAlike(
      ["cgroup", "attach", root, "egress", ...pin("egress_a"), "multi"],
      /this program is already attached there/,
    );
    await failsAlike(
      ["-j", "cgroup", "detach", root, "egress", ...pin("egress_b")],
      /not attached there/,
    );
  });

  test("detach names the program: another one attached exclusively stays", async () => {
    assert.equal(bpftool("cgroup", "attach", root, "egress", ...pin("egress_a")).code, 0);
    const r = await run("cgroup", "detach", root, "egress", ...pin("egress_b"));
    assert.equal(r.code, 255);
    assert.match(r.stderr, /program \d+ is attached there, not this one/);
    const id = progs.get("egress_a")?.id;
    assert.deepEqual(attached(root), [`${AttachType.CGROUP_INET_EGRESS}:${id}:0`]);
  });

  test("help and unknown commands", async () => {
    const h = await run("cgroup", "help");
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: tsbpf cgroup \{ show \| list \} CGROUP \[\*\*effective\*\*\]/);
    assertSameRun(await run("-j", "cgroup", "help"), bpftool("-j", "cgroup", "help"), "-j help");
    const { b, t } = await both("cgroup", "sideways");
    assert.deepEqual([t.code, t.stdout], [b.code, b.stdout]);
    assert.match(t.stderr, /^Error: unknown command 'sideways'\n/);
    assertSameRun(await run("cgroup"), bpftool("cgroup"), "no command");
  });
});
