import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { committedBtf, generateUapi, OUTPUT_PATH } from "../../scripts/gen-uapi.ts";
import { parseBTF } from "../btf/index.ts";
import { KERNEL_RELEASE } from "./bpf.generated.ts";

const ROOT = join(import.meta.dirname, "../..");

// No kernel involved: the input is the committed BTF, so this holds on any machine.
test("bpf.generated.ts is what gen-uapi.ts makes from the committed BTF, every time", () => {
  const { bytes, release } = committedBtf(ROOT);
  assert.equal(release, KERNEL_RELEASE, "the generated file names the committed BTF's release");
  const first = generateUapi(parseBTF(bytes), release);
  const second = generateUapi(parseBTF(committedBtf(ROOT).bytes), release);
  assert.equal(first, second);
  const checkedIn = readFileSync(join(ROOT, OUTPUT_PATH), "utf8");
  assert.ok(
    first === checkedIn,
    `${OUTPUT_PATH} is stale: run node --import tsx scripts/gen-uapi.ts`,
  );
});
