import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { generateUapi, OUTPUT_PATH } from "../../scripts/gen-uapi.ts";
import { parseBTF } from "../btf/index.ts";
import { KERNEL_RELEASE } from "./bpf.generated.ts";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const ROOT = join(import.meta.dirname, "../..");

function skipReason(): string | false {
  if (!existsSync(VMLINUX)) return `${VMLINUX} does not exist`;
  if (release() !== KERNEL_RELEASE) {
    return `bpf.generated.ts is from Linux ${KERNEL_RELEASE}, this is ${release()}`;
  }
  return false;
}

test("bpf.generated.ts is what gen-uapi.ts makes from this kernel, every time", {
  skip: skipReason(),
}, () => {
  const btf = parseBTF(new Uint8Array(readFileSync(VMLINUX)));
  const first = generateUapi(btf, release());
  const second = generateUapi(parseBTF(new Uint8Array(readFileSync(VMLINUX))), release());
  assert.equal(first, second);
  const checkedIn = readFileSync(join(ROOT, OUTPUT_PATH), "utf8");
  assert.ok(
    first === checkedIn,
    `${OUTPUT_PATH} is stale: run node --import tsx scripts/gen-uapi.ts`,
  );
});
