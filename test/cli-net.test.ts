/**
 * `tsbpf net` side by side with bpftool 7.1, in a network namespace this test makes
 * (veth pairs from test/support/netns.ts; bpftool, ip and tc run as children and see
 * the same namespace):
 *
 * - `net show`, `net list`, `-j`, `-p` and `dev NAME` print byte for byte what bpftool
 *   prints, after attaching with ip and tc (xdpgeneric, clsact filters, an htb class
 *   with a filter, an ingress qdisc, a flow dissector) and after attaching with
 *   `tsbpf net attach`;
 * - attach/detach round trips for the xdp modes (ip link agrees), tc_ingress/tc_egress
 *   (tc agrees; the clsact qdisc tsbpf added goes) and tcx where the kernel has it
 *   (bpftool 7.1 shows no tcx lines: its output is tsbpf's without them);
 * - bad input gives bpftool's error line and exit status, on one line, and leaves
 *   nothing attached.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstatSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { assemble, encodeProgram } from "../src/isa/index.ts";
import { kernelEnumHas } from "../src/kernel/features/kernel-enum.ts";
import { attachTcx, ifindexOf, queryXdp } from "../src/kernel/index.ts";
import { progAttach, progDetach } from "../src/kernel/links/prog-attach.ts";
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
  tsbpfProcess,
} from "./cli-run.ts";
import { assertFdCounts } from "./leak-check.ts";
import { needs } from "./support/kernel.ts";
import { enterTestNetns, type VethPair, vethPair } from "./support/netns.ts";

const skip = needs(compareSkip, compareSkip ? false : enterTestNetns());
const ROOT = join(import.meta.dirname, "..");
const XDP_OBJ = join(ROOT, "examples/xdp-count/xdp-count.bpf.o");
const TC_OBJ = join(ROOT, "examples/tc-clsact/tc-clsact.bpf.o");

const run = (cmd: string, ...args: string[]) =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const ip = (...args: string[]) => run("ip", ...args);
const tc = (...args: string[]) => run("tc", ...args);
const existsLink = (path: string) => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};
const qdiscs = (dev: string) => tc("qdisc", "show", "dev", dev);
const hasClsact = (dev: string) => /qdisc clsact ffff:/.test(qdiscs(dev));

/** Every `net show` form for the devices given. */
async function compareShow(devices: readonly string[]): Promise<void> {
  await compareWithBpftool(["net", "show"]);
  await compareWithBpftool(["net", "list"], { modes: [[]] });
  for (const dev of devices) await compareWithBpftool(["net", "show", "dev", dev]);
}

/**
 * tsbpf's error run `t` against bpftool's `b` on the same input: the same exit status,
 * one line on stderr that starts with bpftool's `Error:` line (libbpf's own notes left
 * out of bpftool's), nothing on stdout.
 */
function assertSameFailure(t: Run, b: Run, what: string): void {
  assert.equal(t.code, b.code, `${what}: exit status`);
  assert.notEqual(t.code, 0, `${what}: fails`);
  const bLine = b.stderr.split("\n").find((l) => l.startsWith("Error: "));
  assert.ok(bLine, `${what}: bpftool said ${JSON.stringify(b.stderr)}`);
  assert.equal(t.stdout, "", `${what}: stdout`);
  assert.match(t.stderr, /^Error: [^\n]*\n$/, `${what}: one line`);
  assert.ok(t.stderr.startsWith(bLine), `${what}: ${t.stderr} vs ${bLine}`);
}

describe("tsbpf net, side by side with bpftool in a test network namespace", { skip }, () => {
  let pins = { dir: "", cleanup: () => {} };
  let xdpPin = "";
  let tcIngressPin = "";
  let tcEgressPin = "";
  const pairs: VethPair[] = [];
  const pair = () => {
    const p = vethPair();
    pairs.push(p);
    return p;
  };

  // iproute2 makes /sys/fs/bpf/{tc,ip,xdp} when it loads an object: removed again when
  // they were not there before (bpffs is left as found).
  const IPROUTE2_DIRS = ["/sys/fs/bpf/tc", "/sys/fs/bpf/ip", "/sys/fs/bpf/xdp"];
  let iproute2Dirs: string[] = [];

  before(async () => {
    iproute2Dirs = IPROUTE2_DIRS.filter((d) => !existsLink(d));
    pins = pinDir("net");
    xdpPin = `${pins.dir}/xdp`;
    tcIngressPin = `${pins.dir}/tc/tc_ingress`;
    tcEgressPin = `${pins.dir}/tc/tc_egress`;
    const a = await tsbpf("prog", "load", XDP_OBJ, xdpPin);
    assert.equal(a.code, 0, a.stderr);
    const b = await tsbpf("prog", "loadall", TC_OBJ, `${pins.dir}/tc`, "type", "tc");
    assert.equal(b.code, 0, b.stderr);
  });

  after(() => {
    for (const p of pairs) p.remove();
    pins.cleanup();
    for (const d of iproute2Dirs) rmSync(d, { recursive: true, force: true });
  });

  test("after ip and tc: xdpgeneric, clsact filters, an htb class, an ingress qdisc, a flow dissector", async (t) => {
    const fds = fdSnapshot();
    const x = pair();
    const c = pair();
    const h = pair();
    const i = pair();
    ip("link", "set", "dev", x.name, "xdpgeneric", "obj", XDP_OBJ, "sec", "xdp");
    tc("qdisc", "add", "dev", c.name, "clsact");
    tc("filter", "add", "dev", c.name, "ingress", "bpf", "da", "obj", TC_OBJ, "sec", "tc");
    tc("filter", "add", "dev", c.name, "egress", "bpf", "da", "obj", TC_OBJ, "sec", "tc");
    // htb is a module some kernels (the matrix's guests) do not have.
    let htb = true;
    try {
      tc("qdisc", "add", "dev", h.name, "root", "handle", "1:", "htb", "default", "10");
    } catch (e) {
      htb = false;
      t.diagnostic(`no htb qdisc here: ${(e as Error).message.split("\n")[1]}`);
    }
    if (htb) {
      tc("class", "add", "dev", h.name, "parent", "1:", "classid", "1:10", "htb", "rate", "1mbit");
      tc("filter", "add", "dev", h.name, "parent", "1:", "bpf", "obj", TC_OBJ, "sec", "tc");
      tc("filter", "add", "dev", h.name, "parent", "1:10", "bpf", "obj", TC_OBJ, "sec", "tc");
    }
    tc("qdisc", "add", "dev", i.name, "ingress");
    tc("filter", "add", "dev", i.name, "parent", "ffff:", "bpf", "da", "obj", TC_OBJ, "sec", "tc");
    const shown = await tsbpf("net", "show");
    assert.match(shown.stdout, new RegExp(`^${x.name}\\(\\d+\\) generic id \\d+$`, "m"));
    assert.match(shown.stdout, new RegExp(`^${c.name}\\(\\d+\\) clsact/egress \\S+ id \\d+$`, "m"));
    if (htb) assert.match(shown.stdout, new RegExp(`^${h.name}\\(\\d+\\) htb \\S+ id \\d+$`, "m"));
    await compareShow([x.name, c.name, h.name, i.name, "lo"]);

    // A flow dissector in this namespace (attached with target 0: the caller's namespace).
    {
      const instructions = encodeProgram(assemble("r0 = 0\nexit"));
      using dissector = Program.load({
        name: "dissect",
        type: ProgType.FLOW_DISSECTOR,
        license: "GPL",
        instructions,
      });
      progAttach(dissector, 0, AttachType.FLOW_DISSECTOR, "this network namespace");
      try {
        const withFd = await tsbpf("-j", "net", "show", "dev", "lo");
        assert.match(withFd.stdout, new RegExp(`"flow_dissector":\\["id":${dissector.id}\\]`));
        await compareShow([x.name]);
      } finally {
        progDetach(dissector, 0, AttachType.FLOW_DISSECTOR, "this network namespace");
      }
    }
    for (const p of [x, c, h, i]) {
      p.remove();
      pairs.splice(pairs.indexOf(p), 1);
    }
    assertFdCounts(fds);
  });

  test("xdp modes: attach and detach round trips, as ip link and bpftool see them", async () => {
    const p = pair();
    const ifindex = ifindexOf(p.name);
    const id = Number(
      /"id":(\d+)/.exec((await tsbpf("-j", "prog", "show", "pinned", xdpPin)).stdout)?.[1],
    );
    for (const [type, mode] of [
      ["xdpgeneric", "generic"],
      ["xdpdrv", "driver"],
      ["xdp", "driver"], // veth has a driver hook: the kernel's default
    ] as const) {
      const fds = fdSnapshot();
      const a = await tsbpf("net", "attach", type, "pinned", xdpPin, "dev", p.name);
      assert.deepEqual([a.code, a.stdout, a.stderr], [0, "", ""], type);
      assert.deepEqual(queryXdp(ifindex), { [mode]: id }, `${type}: attached in ${mode} mode`);
      assert.match(ip("link", "show", p.name), new RegExp(`prog/xdp id ${id} `));
      await compareShow([p.name]);
      const d = await tsbpf("-j", "net", "detach", type, "dev", p.name);
      assert.deepEqual([d.code, d.stdout], [0, "null\n"], `${type} detach`);
      assert.deepEqual(queryXdp(ifindex), {}, `${type}: detached`);
      assertFdCounts(fds);
    }
    // bpftool attaches, tsbpf detaches, and the other way round.
    assert.equal(bpftool("net", "attach", "xdpgeneric", "pinned", xdpPin, "dev", p.name).code, 0);
    assert.equal((await tsbpf("net", "detach", "xdpgeneric", "dev", p.name)).code, 0);
    assert.deepEqual(queryXdp(ifindex), {});
    assert.equal((await tsbpf("net", "attach", "xdpg", "pinned", xdpPin, "dev", p.name)).code, 0);
    await compareShow([p.name]);
    assert.equal(bpftool("net", "detach", "xdpgeneric", "dev", p.name).code, 0);
    assert.deepEqual(queryXdp(ifindex), {});
    // The real bin: the program stays after the process exits; its exit status is 0.
    const pa = tsbpfProcess("net", "attach", "xdpgeneric", "pinned", xdpPin, "dev", p.name);
    assert.deepEqual([pa.code, pa.stderr], [0, ""]);
    assert.deepEqual(queryXdp(ifindex), { generic: id });
    const pd = tsbpfProcess("net", "detach", "xdpgeneric", "dev", p.name);
    assert.deepEqual([pd.code, pd.stderr], [0, ""]);
    assert.deepEqual(queryXdp(ifindex), {});
    // overwrite replaces in place, as bpftool's does.
    assert.equal(
      (await tsbpf("net", "attach", "xdpgeneric", "id", `${id}`, "dev", p.name)).code,
      0,
    );
    const o = await tsbpf("net", "attach", "xdpgeneric", "id", `${id}`, "dev", p.name, "overwrite");
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(queryXdp(ifindex), { generic: id });
    assert.equal((await tsbpf("net", "detach", "xdpgeneric", "dev", p.name)).code, 0);
  });

  test("tc_ingress and tc_egress: clsact made and removed, tc agrees, bpftool shows the same", async () => {
    const fds = fdSnapshot();
    const p = pair();
    const ifindex = ifindexOf(p.name);
    assert.equal(hasClsact(p.name), false);
    for (const [type, pin] of [
      ["tc_ingress", tcIngressPin],
      ["tc_egress", tcEgressPin],
    ] as const) {
      const a = await tsbpf("net", "attach", type, "pinned", pin, "dev", p.name);
      assert.deepEqual([a.code, a.stderr], [0, ""], type);
    }
    const dir = (d: string) => tc("filter", "show", "dev", p.name, d);
    assert.match(dir("ingress"), /bpf chain 0 handle 0x1 tsbpf:tc_ingress direct-action/);
    assert.match(dir("egress"), /bpf chain 0 handle 0x1 tsbpf:tc_egress direct-action/);
    await compareShow([p.name]);
    const shown = await tsbpf("net", "show", "dev", p.name);
    assert.match(shown.stdout, /\) clsact\/ingress tsbpf:tc_ingress id \d+\n/);

    // Twice without overwrite: refused, the first stays; with overwrite: replaced in place.
    const again = await tsbpf("net", "attach", "tc_ingress", "pinned", tcEgressPin, "dev", p.name);
    assert.equal(again.code, 256 - 17, again.stderr);
    assert.match(
      again.stderr,
      /^Error: interface tc_ingress attach failed: File exists \(.*overwrite.*\)\n$/,
    );
    assert.match(dir("ingress"), /tsbpf:tc_ingress direct-action/);
    const o = await tsbpf(
      "net",
      "attach",
      "tc_ingress",
      "pinned",
      tcEgressPin,
      "dev",
      p.name,
      "overwrite",
    );
    assert.equal(o.code, 0, o.stderr);
    assert.match(dir("ingress"), /handle 0x1 tsbpf:tc_egress direct-action/);
    assert.equal(dir("ingress").match(/handle/g)?.length, 1, "one filter");

    // A filter someone else added stays, and so does the qdisc then.
    tc("filter", "add", "dev", p.name, "ingress", "bpf", "da", "obj", TC_OBJ, "sec", "tc");
    assert.equal((await tsbpf("net", "detach", "tc_ingress", "dev", p.name)).code, 0);
    assert.doesNotMatch(dir("ingress"), /tsbpf:/);
    assert.match(dir("ingress"), /tc-clsact\.bpf\.o:\[tc\]/);
    assert.equal((await tsbpf("net", "detach", "tc_egress", "dev", p.name)).code, 0);
    assert.ok(hasClsact(p.name), "the other filter keeps the qdisc");
    await compareShow([p.name]);
    tc("filter", "del", "dev", p.name, "ingress");
    // Attach again and detach both: the qdisc goes with the last filter.
    await tsbpf("net", "attach", "tc_egress", "pinned", tcEgressPin, "dev", p.name);
    const d = await tsbpf("-j", "net", "detach", "tc_egress", "dev", p.name);
    assert.deepEqual([d.code, d.stdout], [0, "null\n"]);
    assert.equal(hasClsact(p.name), false, "the empty clsact qdisc is removed");
    const none = await tsbpf("net", "detach", "tc_egress", "dev", p.name);
    assert.equal(none.code, 256 - 2);
    assert.match(
      none.stderr,
      /^Error: interface tc_egress detach failed: No such file or directory \(/,
    );
    assert.equal(ifindexOf(p.name), ifindex);
    assertFdCounts(fds);
  });

  test("tcx_ingress and tcx_egress where the kernel has tcx; bpftool 7.1 shows the rest alike", async () => {
    const p = pair();
    const hasTcx = kernelEnumHas("bpf_attach_type", AttachType.TCX_INGRESS) !== false;
    const a = await tsbpf("net", "attach", "tcx_ingress", "pinned", tcIngressPin, "dev", p.name);
    if (!hasTcx) {
      assert.equal(a.code, 256 - 22);
      assert.match(
        a.stderr,
        /^Error: interface tcx_ingress attach failed: .*tcx came in Linux 6\.6/,
      );
      return;
    }
    assert.deepEqual([a.code, a.stderr], [0, ""]);
    const b = await tsbpf(
      "net",
      "attach",
      "tcx_ingress",
      "pinned",
      tcEgressPin,
      "dev",
      p.name,
      "prepend",
    );
    assert.deepEqual([b.code, b.stderr], [0, ""]);
    const e = await tsbpf("net", "attach", "tcx_egress", "pinned", tcEgressPin, "dev", p.name);
    assert.deepEqual([e.code, e.stderr], [0, ""]);
    const prog = Program.fromPin(tcIngressPin);
    const link = attachTcx(prog, p.name, "egress");
    try {
      const ifindex = ifindexOf(p.name);
      const ids = JSON.parse((await tsbpf("-j", "prog", "show", "pinned", tcIngressPin)).stdout).id;
      const eid = JSON.parse((await tsbpf("-j", "prog", "show", "pinned", tcEgressPin)).stdout).id;
      const shown = await tsbpf("net", "show", "dev", p.name);
      const dev = `${p.name}(${ifindex})`;
      assert.equal(
        shown.stdout,
        "xdp:\n\ntc:\n" +
          `${dev} tcx/ingress tc_egress prog_id ${eid} \n` +
          `${dev} tcx/ingress tc_ingress prog_id ${ids} \n` +
          `${dev} tcx/egress tc_egress prog_id ${eid} \n` +
          `${dev} tcx/egress tc_ingress prog_id ${ids} link_id ${link.info().id} \n` +
          "\nflow_dissector:\n\n",
      );
      // bpftool 7.1 prints what tsbpf prints without its tcx lines.
      for (const mode of [[], ["-j"], ["-p"]]) {
        const t = await tsbpf(...mode, "net", "show");
        const bt = bpftool(...mode, "net", "show");
        if (mode.length === 0) {
          assert.equal(t.stdout.replace(/^.* tcx\/.*\n/gm, ""), bt.stdout);
        } else {
          const parsed = JSON.parse(t.stdout);
          parsed[0].tc = parsed[0].tc.filter((x: { kind: string }) => !x.kind.startsWith("tcx/"));
          assert.deepEqual(parsed, JSON.parse(bt.stdout));
          const j = JSON.parse((await tsbpf("-j", "net", "show", "dev", p.name)).stdout);
          assert.deepEqual(j[0].tc.at(-1), {
            devname: p.name,
            ifindex,
            kind: "tcx/egress",
            name: "tc_ingress",
            prog_id: ids,
            prog_flags: [],
            link_id: link.info().id,
            link_flags: [],
          });
        }
      }
      // Detach takes the last program BPF_PROG_ATTACH put there; links are not its to take.
      assert.equal((await tsbpf("net", "detach", "tcx_ingress", "dev", p.name)).code, 0);
      assert.equal((await tsbpf("net", "detach", "tcx_ingress", "dev", p.name)).code, 0);
      const none = await tsbpf("net", "detach", "tcx_ingress", "dev", p.name);
      assert.equal(none.code, 256 - 2);
      assert.equal(
        none.stderr,
        "Error: interface tcx_ingress detach failed: No such file or directory\n",
      );
      assert.equal((await tsbpf("net", "detach", "tcx_egress", "dev", p.name)).code, 0);
      const linkOnly = await tsbpf("net", "detach", "tcx_egress", "dev", p.name);
      assert.equal(linkOnly.code, 256 - 2);
      assert.match(
        linkOnly.stderr,
        /^Error: interface tcx_egress detach failed: No such file or directory \(only links hold programs there: "tsbpf link detach" detaches those\)\n$/,
      );
      const left = await tsbpf("-j", "net", "show", "dev", p.name);
      assert.deepEqual(
        JSON.parse(left.stdout)[0].tc.map((x: { link_id: number }) => x.link_id),
        [link.info().id],
        "the link stays",
      );
    } finally {
      link.close();
      prog.close();
    }
    assert.equal(
      (await tsbpf("net", "show", "dev", p.name)).stdout,
      bpftool("net", "show", "dev", p.name).stdout,
    );
  });

  test("bad input: bpftool's message and exit status on one line, nothing left attached", async () => {
    const fds = fdSnapshot();
    const p = pair();
    const ifindex = ifindexOf(p.name);
    const both = async (...args: string[]) => [await tsbpf(...args), bpftool(...args)] as const;
    const clean = () => {
      assert.deepEqual(queryXdp(ifindex), {}, "no XDP program left");
      assert.equal(hasClsact(p.name), false, "no qdisc left");
    };
    // The kernel refuses: errno's exit status, bpftool's line then what tsbpf knows more.
    for (const args of [
      ["net", "attach", "xdpoffload", "pinned", xdpPin, "dev", p.name],
      ["net", "attach", "xdp", "pinned", tcIngressPin, "dev", p.name],
      ["net", "attach", "xdpgeneric", "pinned", xdpPin, "dev", "tsbpf-nodev"],
      ["-j", "net", "attach", "xdpgeneric", "pinned", xdpPin, "dev", "tsbpf-nodev"],
      ["net", "attach", "xdp", "pinned", `${pins.dir}/nope`, "dev", p.name],
    ]) {
      const [t, b] = await both(...args);
      if (args[0] === "-j") assertSameRun(t, b, args.join(" "));
      else assertSameFailure(t, b, args.join(" "));
      clean();
    }
    // tsbpf's own types refuse a program of the wrong type before touching the device.
    for (const type of ["tc_ingress", "tc_egress", "tcx_ingress"]) {
      const t = await tsbpf("net", "attach", type, "pinned", xdpPin, "dev", p.name);
      assert.equal(t.code, 234, type);
      assert.match(
        t.stderr,
        new RegExp(
          `^Error: interface ${type} attach failed: Invalid argument \\(program xdp_count is xdp; ${type} takes sched_cls programs\\)\\n$`,
        ),
      );
      clean();
    }
    // Over an existing program without overwrite: EBUSY, and the first program stays.
    assert.equal(bpftool("net", "attach", "xdpgeneric", "pinned", xdpPin, "dev", p.name).code, 0);
    const before = queryXdp(ifindex);
    const [t, b] = await both("net", "attach", "xdpgeneric", "pinned", xdpPin, "dev", p.name);
    assertSameFailure(t, b, "attach twice");
    assert.equal(
      t.stderr,
      "Error: interface xdpgeneric attach failed: Device or resource busy (XDP program already attached)\n",
    );
    const [tm, bm] = await both("net", "attach", "xdpdrv", "pinned", xdpPin, "dev", p.name);
    assertSameFailure(tm, bm, "driver mode beside generic");
    assert.deepEqual(queryXdp(ifindex), before);
    assert.equal((await tsbpf("net", "detach", "xdpgeneric", "dev", p.name)).code, 0);
    clean();
    // Syntax: byte for byte what bpftool says.
    for (const args of [
      ["net", "attach"],
      ["net", "attach", "xdp", "pinned", xdpPin],
      ["net", "attach", "xdp", "pinned", xdpPin, "dev"],
      ["net", "attach", "foo", "pinned", xdpPin, "dev", p.name],
      ["net", "attach", "xdp", "pinned", xdpPin, "dov", p.name],
      ["net", "attach", "xdp", "pinned", xdpPin, "dev", p.name, "ovx"],
      ["net", "attach", "xdp", "id", "abc", "dev", p.name],
      ["net", "attach", "xdp", "id", "999999999", "dev", p.name],
      ["-j", "net", "attach", "xdp", "id", "999999999", "dev", p.name],
      ["net", "detach", "xdp", "dev"],
      ["net", "detach", "foo", "dev", p.name],
      ["net", "detach", "xdp", "dav", p.name],
      ["net", "detach", "xdp", "dev", "tsbpf-nodev"],
      ["net", "show", "dev", "tsbpf-nodev"],
      ["-j", "net", "show", "dev", "tsbpf-nodev"],
      ["net", "show", "foo", "bar"],
      ["-j", "net", "show", "dev"],
      ["-j", "net", "help"],
    ]) {
      const [ts, bs] = await both(...args);
      assertSameRun(ts, bs, args.join(" "));
      clean();
    }
    assertFdCounts(fds);
  });

  test("help marks tsbpf's own attach types", async () => {
    const h = await tsbpf("net", "help");
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: tsbpf net \{ show \| list \} \[dev <devname>\]\n/);
    assert.match(
      h.stdout,
      /ATTACH_TYPE := \{ xdp \| xdpgeneric \| xdpdrv \| xdpoffload \|\n\s+tcx_ingress \| tcx_egress \| tc_ingress \| tc_egress \}/,
    );
    assert.match(h.stdout, /tsbpf's own \(bpftool 7\.1 has none of these\)/);
    const u = await tsbpf("net", "show", "dev");
    assert.equal(u.code, 255);
    assert.equal(u.stderr, h.stdout); // a usage error: the same usage, on stderr
  });
});
