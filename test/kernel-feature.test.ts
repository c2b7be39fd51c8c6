/**
 * Feature probes against the real kernel, cross-checked three ways: with what
 * ENVIRONMENT.md says this kernel has, with `bpftool feature probe kernel -j` (where
 * bpftool is right), and with real programs that use (or are refused) a helper.
 * A feature that claims to be missing on a kernel new enough to have it fails the
 * test, unless the kernel's configuration or policy explains it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";
import {
  clearFeatureCache,
  formatFeatureReport,
  haveHelper,
  haveMapType,
  haveProgType,
  kernelLastHelperId,
  knownMapTypes,
  knownProgTypes,
  lastKnownHelperId,
  probeKernelFeatures,
  requireFeature,
  scanHelpers,
} from "../src/kernel/features/index.ts";
import { encodeRaw } from "../src/kernel/features/insns.ts";
import { NotSupportedError } from "../src/kernel/features/not-supported-error.ts";
import {
  atLeast,
  MAP_TYPE_SINCE,
  MISC_SINCE,
  PROG_TYPE_SINCE,
  runningKernel,
} from "../src/kernel/features/since.ts";
import { BpfMap } from "../src/kernel/maps/map.ts";
import { Program } from "../src/kernel/programs/program.ts";
import { VerifierError } from "../src/kernel/programs/verifier-error.ts";
import { openFdCount } from "../src/kernel/sys/index.ts";
import { missingCapabilities } from "../src/kernel/system/capabilities.ts";
import {
  Errno,
  HelperId,
  KERNEL_RELEASE,
  MapType,
  ProgType,
  progTypeName,
} from "../src/uapi/index.ts";
import { assertFdCounts, fdCounts } from "./leak-check.ts";
import { kernelSkip } from "./support/kernel.ts";

/** The kernel this repo's uapi was generated from (major, minor). */
const [uapiMajor = 0, uapiMinor = 0] = KERNEL_RELEASE.split(".").map(Number);
const UAPI_KERNEL: readonly [number, number] = [uapiMajor, uapiMinor];

const skip = kernelSkip;

function bpftoolProbe(): Record<string, Record<string, unknown>> | undefined {
  try {
    return JSON.parse(
      execFileSync("bpftool", ["feature", "probe", "kernel", "-j"], { encoding: "utf8" }),
    );
  } catch {
    return undefined;
  }
}

describe("feature probes", { skip }, () => {
  test("a full probe leaves no descriptor behind", () => {
    clearFeatureCache();
    const before = fdCounts();
    const report = probeKernelFeatures();
    assertFdCounts(before);
    assert.ok(report.syscall.available);
    assert.equal(report.programTypes.length, knownProgTypes().length);
    assert.equal(report.mapTypes.length, knownMapTypes().length);
  });

  test("program types this kernel has are present (ENVIRONMENT.md)", () => {
    for (const t of [
      ProgType.SOCKET_FILTER,
      ProgType.XDP,
      ProgType.SCHED_CLS,
      ProgType.SCHED_ACT,
      ProgType.TRACEPOINT,
      ProgType.RAW_TRACEPOINT,
      ProgType.CGROUP_SKB,
      ProgType.CGROUP_SOCK_ADDR,
      ProgType.SK_LOOKUP,
      ProgType.SYSCALL,
      ProgType.STRUCT_OPS,
      ProgType.NETFILTER,
      // Loads: kprobe programs also serve uprobes, which this kernel has; only
      // kprobe events are configured out (see the kernel config section).
      ProgType.KPROBE,
    ]) {
      const since = PROG_TYPE_SINCE[t];
      if (since && !atLeast(runningKernel(), since)) continue; // netfilter: 6.4, not in 6.1
      const s = haveProgType(t);
      assert.ok(s.available, `${progTypeName(t)}: ${s.reason}`);
    }
  });

  test("fentry/LSM/ext are refused here with EPERM, and the reason says so", () => {
    for (const t of [ProgType.TRACING, ProgType.LSM, ProgType.EXT]) {
      const s = haveProgType(t);
      if (s.available) continue; // a kernel that allows them
      assert.equal(s.errno, 1, `${progTypeName(t)}: ${s.reason}`);
      assert.match(s.reason ?? "", /EPERM/);
      const e = (() => {
        try {
          requireFeature(s);
        } catch (err) {
          return err;
        }
      })();
      assert.ok(e instanceof NotSupportedError);
      assert.match(e.message, new RegExp(`program type ${progTypeName(t)} is not supported`));
    }
  });

  test("every map type this kernel knows creates, or the probe names a real cause", (t) => {
    // A machine may lack a capability root usually has (CAP_SYS_RESOURCE in some
    // containers): the kernel then refuses some types with EPERM. That is allowed only
    // when the reason names capabilities this process really lacks. Types newer than
    // the running kernel (cgrp_storage: 6.2) are not expected.
    const missing = missingCapabilities();
    const refused: string[] = [];
    for (const type of knownMapTypes()) {
      const since = MAP_TYPE_SINCE[type];
      if (since && !atLeast(runningKernel(), since)) continue;
      const s = haveMapType(type);
      if (s.available) continue;
      const explained =
        s.errno === Errno.EPERM &&
        missing.length > 0 &&
        missing.every((c) => s.reason?.includes(c)) &&
        /although tsbpf runs as root: this process lacks/.test(s.reason ?? "");
      assert.ok(explained, `${s.feature}: ${s.reason}`);
      refused.push(s.feature);
    }
    if (refused.length > 0)
      t.diagnostic(`refused for lack of ${missing.join(", ")}: ${refused.join(", ")}`);
  });

  test("a feature never claims to be missing on a kernel new enough to have it", () => {
    const kernel = runningKernel();
    const explained = (reason: string | undefined, errno: number | undefined) =>
      /is not set\)/.test(reason ?? "") || errno === 1; // configured out, or refused by policy (EPERM)
    const wrong: string[] = [];
    for (const t of knownProgTypes()) {
      const since = PROG_TYPE_SINCE[t];
      const s = haveProgType(t);
      if (since && atLeast(kernel, since) && !s.available && !explained(s.reason, s.errno)) {
        wrong.push(`${s.feature} (since ${since.join(".")}): ${s.reason}`);
      }
    }
    for (const t of knownMapTypes()) {
      const since = MAP_TYPE_SINCE[t];
      const s = haveMapType(t);
      if (since && atLeast(kernel, since) && !s.available && !explained(s.reason, s.errno)) {
        wrong.push(`${s.feature} (since ${since.join(".")}): ${s.reason}`);
      }
    }
    for (const s of probeKernelFeatures({ helpers: false }).misc) {
      const since = MISC_SINCE[s.feature];
      assert.ok(since, `no version for ${s.feature}`);
      if (atLeast(kernel, since) && !s.available) wrong.push(`${s.feature}: ${s.reason}`);
    }
    assert.deepEqual(wrong, []);
  });

  test("program and map types agree with bpftool for every type bpftool knows", (t) => {
    const bpftool = bpftoolProbe();
    if (!bpftool) return t.skip("bpftool not installed");
    const progs = bpftool.program_types ?? {};
    const maps = bpftool.map_types ?? {};
    let compared = 0;
    for (const type of knownProgTypes()) {
      const key = `have_${progTypeName(type)}_prog_type`;
      if (!(key in progs)) continue;
      assert.equal(haveProgType(type).available, progs[key], key);
      compared++;
    }
    for (const s of probeKernelFeatures({ helpers: false }).mapTypes) {
      const key = `have_${s.name}_map_type`;
      if (!(key in maps)) continue;
      assert.equal(s.available, maps[key], key);
      compared++;
    }
    assert.ok(compared >= 31 + 31, `compared ${compared}`);
    // The system configuration is read the same way.
    const sys = bpftool.system_config ?? {};
    const ours = probeKernelFeatures({ helpers: false }).systemConfig;
    assert.equal(ours.sysctls.unprivilegedBpfDisabled, sys.unprivileged_bpf_disabled);
    assert.equal(ours.sysctls.jitEnable, sys.bpf_jit_enable);
    assert.equal(ours.sysctls.jitLimit, sys.bpf_jit_limit);
    for (const [opt, value] of ours.kernelConfig) assert.equal(value ?? null, sys[opt], opt);
  });

  test("our plain text matches bpftool's line for line outside helpers and what bpftool lacks", (t) => {
    let theirs: string;
    try {
      theirs = execFileSync("bpftool", ["feature", "probe", "kernel"], { encoding: "utf8" });
    } catch {
      return t.skip("bpftool not installed");
    }
    const ours = formatFeatureReport(probeKernelFeatures());
    const keep = (text: string) => {
      const lines = text.split("\n");
      const out: string[] = [];
      let inHelpers = false;
      for (const l of lines) {
        if (l.startsWith("Scanning eBPF helper functions")) inHelpers = true;
        else if (l.startsWith("Scanning miscellaneous")) inHelpers = false;
        if (!inHelpers) out.push(l);
      }
      return out;
    };
    const theirLines = new Set(keep(theirs));
    // Every line bpftool prints outside the helper section, we print too.
    for (const l of keep(theirs)) assert.ok(keep(ours).includes(l), `missing line: ${l}`);
    // And what we print beyond it is only what bpftool 7.1 does not know.
    const extra = keep(ours).filter((l) => !theirLines.has(l));
    for (const l of extra) {
      assert.match(l, /netfilter|cgrp_storage|arena|ISA extension v4/, `unexpected line: ${l}`);
    }
  });

  test("helpers per program type: what the verifier allows", () => {
    assert.equal(haveHelper(ProgType.XDP, HelperId.map_lookup_elem).available, true);
    const skb = haveHelper(ProgType.XDP, HelperId.skb_load_bytes);
    assert.equal(skb.available, false);
    assert.match(skb.reason ?? "", /cannot use helper bpf_skb_load_bytes#26|unknown func/);
    assert.equal(haveHelper(ProgType.SCHED_CLS, HelperId.skb_load_bytes).available, true);
    assert.equal(haveHelper(ProgType.XDP, HelperId.xdp_adjust_head).available, true);
    assert.equal(haveHelper(ProgType.SOCKET_FILTER, HelperId.xdp_adjust_head).available, false);
    const fentry = haveHelper(ProgType.TRACING, HelperId.map_lookup_elem);
    assert.equal(fentry.available, false);
    if (haveProgType(ProgType.TRACING).available) assert.equal(fentry.undetermined, true);

    // The scan agrees with the single probes and never lists a refused helper.
    const xdp = scanHelpers(ProgType.XDP);
    assert.equal(xdp.state, "probed");
    const ids = new Set(xdp.available.map((h) => h.id));
    assert.ok(ids.has(HelperId.map_lookup_elem));
    assert.ok(ids.has(HelperId.xdp_adjust_tail));
    assert.ok(!ids.has(HelperId.skb_load_bytes));
    assert.ok(!ids.has(HelperId.trace_printk), "noisy helpers are left out unless full");
    assert.ok(xdp.available.length > 20 && xdp.available.length < xdp.probed);
  });

  test("the scan's verdicts hold for real programs: a lookup from XDP loads, skb_load_bytes does not", () => {
    const before = openFdCount();
    {
      using map = BpfMap.create({
        name: "probe_check",
        type: MapType.ARRAY,
        keySize: 4,
        valueSize: 8,
        maxEntries: 1,
      });
      // r1 = map; *(u32 *)(r10 - 4) = 0; r2 = r10; r2 += -4; call map_lookup_elem; r0 = 2; exit
      using prog = Program.load({
        name: "lookup",
        type: ProgType.XDP,
        license: "GPL",
        instructions: encodeRaw([
          [0x18, 0x11, 0, map.fd],
          [0x00, 0x00, 0, 0],
          [0x62, 0x0a, -4, 0],
          [0xbf, 0xa2, 0, 0],
          [0x07, 0x02, 0, -4],
          [0x85, 0x00, 0, HelperId.map_lookup_elem],
          [0xb7, 0x00, 0, 2],
          [0x95, 0x00, 0, 0],
        ]),
      });
      assert.equal(prog.run({ data: new Uint8Array(64) }).retval, 2);

      // bpf_skb_load_bytes(ctx, 0, r10 - 8, 4) with valid arguments: refused by type alone.
      let refused: unknown;
      try {
        Program.load({
          name: "skbload",
          type: ProgType.XDP,
          license: "GPL",
          instructions: encodeRaw([
            [0xb7, 0x02, 0, 0],
            [0xbf, 0xa3, 0, 0],
            [0x07, 0x03, 0, -8],
            [0xb7, 0x04, 0, 4],
            [0x85, 0x00, 0, HelperId.skb_load_bytes],
            [0xb7, 0x00, 0, 2],
            [0x95, 0x00, 0, 0],
          ]),
        }).close();
      } catch (e) {
        refused = e;
      }
      assert.ok(refused instanceof VerifierError, String(refused));
      assert.equal(refused.instruction, 4);
      assert.match(refused.verifierMessage ?? "", /bpf_skb_load_bytes#26/);
    }
    assert.equal(openFdCount(), before);
  });

  test("the kernel's last helper is found, and ids past it are not loaded", () => {
    const last = kernelLastHelperId();
    // The headers are this repo's uapi (Linux 6.18): a kernel at least that new has every
    // helper they name; an older one (6.1 has 209 of 211) has fewer, never none.
    const msg = `kernel ${last}, headers ${lastKnownHelperId()}`;
    if (atLeast(runningKernel(), UAPI_KERNEL)) assert.ok(last >= lastKnownHelperId(), msg);
    else assert.ok(last > 0 && last <= lastKnownHelperId(), msg);
    const beyond = haveHelper(ProgType.XDP, last + 1);
    assert.equal(beyond.available, false);
    assert.match(beyond.reason ?? "", /helpers end at|invalid func/);
  });

  test("bpftool 7.1 lists every helper for every type; ours is a strict subset", (t) => {
    const bpftool = bpftoolProbe();
    if (!bpftool) return t.skip("bpftool not installed");
    const theirs = bpftool.helpers as Record<string, string[]> | undefined;
    if (!theirs) return t.skip("bpftool printed no helpers");
    const xdpTheirs = new Set(theirs.xdp_available_helpers ?? []);
    // Helpers newer than bpftool 7.1's headers (bpf_cgrp_storage_get...) it cannot name.
    const bpftoolKnows = new Set(Object.values(theirs).flat());
    const xdpOurs = scanHelpers(ProgType.XDP)
      .available.map((h) => h.name)
      .filter((h) => bpftoolKnows.has(h));
    for (const h of xdpOurs) assert.ok(xdpTheirs.has(h), `${h} not in bpftool's list`);
    // On 6.18 bpftool 7.1 misreads the verifier's "program of this type cannot use
    // helper" refusals and lists more; on older kernels (6.1) it reads them right.
    if (atLeast(runningKernel(), UAPI_KERNEL)) {
      assert.ok(
        xdpOurs.length < xdpTheirs.size,
        "bpftool lists more: it misreads this kernel's refusals",
      );
    }
  });
});
