import assert from "node:assert/strict";
import { test } from "node:test";
import { parseBTF } from "../../btf/index.ts";
import { formatFeatureReport } from "./format-plain.ts";
import { localStorageBtf } from "./map-types.ts";
import type { FeatureReport } from "./report.ts";
import { atLeast } from "./since.ts";
import { available, unavailable } from "./status.ts";
import { parseKernelConfig } from "./system-config.ts";

test("kernel .config parsing: set values, unquoted strings, comments ignored", () => {
  const c = parseKernelConfig(
    'CONFIG_BPF=y\n# CONFIG_KPROBES is not set\nCONFIG_HZ=250\nCONFIG_X="a b"\n',
  );
  assert.deepEqual(
    [...c],
    [
      ["CONFIG_BPF", "y"],
      ["CONFIG_HZ", "250"],
      ["CONFIG_X", "a b"],
    ],
  );
});

test("the local storage probe's BTF is int, bpf_spin_lock and struct val", () => {
  const raw = localStorageBtf();
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  assert.equal(view.getUint16(0, true), 0xeb9f);
  assert.equal(view.getUint32(4, true), 24);
  assert.equal(raw.length, 24 + view.getUint32(12, true) + view.getUint32(20, true));
  const btf = parseBTF(raw);
  assert.equal(btf.sizeof(1), 4);
  assert.equal(btf.sizeof(2), 4);
  assert.equal(btf.sizeof(3), 8);
  assert.equal(btf.findAllByName("bpf_spin_lock").length, 1);
});

test("kernel version comparison", () => {
  assert.ok(atLeast([6, 18], [6, 9]));
  assert.ok(atLeast([6, 9], [6, 9]));
  assert.ok(!atLeast([5, 19], [6, 1]));
});

test("plain text follows bpftool's wording, reasons only when asked", () => {
  const report: FeatureReport = {
    systemConfig: {
      sysctls: {
        unprivilegedBpfDisabled: 2,
        jitEnable: 1,
        jitHarden: 0,
        jitKallsyms: 1,
        jitLimit: 1000,
      },
      configSource: undefined,
      kernelConfig: new Map(),
    },
    syscall: available("bpf() syscall"),
    programTypes: [
      { ...available("program type xdp"), type: 6, name: "xdp" },
      { ...unavailable("program type lsm", "refused (EPERM)", 1), type: 29, name: "lsm" },
    ],
    mapTypes: [{ ...available("map type hash"), type: 1, name: "hash" }],
    helpers: [
      {
        progType: 6,
        typeName: "xdp",
        state: "probed",
        available: [{ id: 1, name: "bpf_map_lookup_elem" }],
        probed: 2,
      },
      {
        progType: 29,
        typeName: "lsm",
        state: "type-unavailable",
        reason: "x",
        available: [],
        probed: 0,
      },
    ],
    misc: [unavailable("bounded loop support", "no")],
    timings: {},
  };
  const text = formatFeatureReport(report);
  assert.equal(
    text,
    [
      "Scanning system configuration...",
      "bpf() syscall restricted to privileged users (admin can change)",
      "JIT compiler is enabled",
      "JIT compiler hardening is disabled",
      "JIT compiler kallsyms exports are enabled for root",
      "Global memory limit for JIT compiler for unprivileged users is 1000 bytes",
      "skipping kernel config, can't open file: No such file or directory",
      "",
      "Scanning system call availability...",
      "bpf() syscall is available",
      "",
      "Scanning eBPF program types...",
      "eBPF program_type xdp is available",
      "eBPF program_type lsm is NOT available",
      "",
      "Scanning eBPF map types...",
      "eBPF map_type hash is available",
      "",
      "Scanning eBPF helper functions...",
      "eBPF helpers supported for program type xdp:",
      "\t- bpf_map_lookup_elem",
      "eBPF helpers supported for program type lsm:",
      "\tProgram type not supported",
      "",
      "Scanning miscellaneous eBPF features...",
      "Bounded loop support is NOT available",
      "",
      "",
    ].join("\n"),
  );
  assert.match(
    formatFeatureReport(report, { reasons: true }),
    /lsm is NOT available \(refused \(EPERM\)\)/,
  );
});
