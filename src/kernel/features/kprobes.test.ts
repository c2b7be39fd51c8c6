import assert from "node:assert/strict";
import { test } from "node:test";
import { haveKprobes, NO_KPROBES } from "./kprobes.ts";
import { kernelConfig } from "./system-config.ts";

test("haveKprobes agrees with the kernel's own config, and a missing one names CONFIG_KPROBES", (t) => {
  const status = haveKprobes();
  assert.equal(status.feature, "kprobes");
  if (!status.available) assert.equal(status.reason, NO_KPROBES);
  const config = kernelConfig();
  if (!config) return t.skip("no kernel config (/proc/config.gz, /boot/config-*) to compare with");
  // A kernel built with kprobe events must not be called one without kprobes, and the
  // other way round (this host: "CONFIG_KPROBES is not set"; the 6.1/6.12 guests: y).
  assert.equal(status.available, config.get("CONFIG_KPROBE_EVENTS") === "y", status.reason);
});
