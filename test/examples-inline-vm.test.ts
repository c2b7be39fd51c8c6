/**
 * The inline-C examples without root: their C (the template string after `/* C *\/`)
 * compiles with compile() and runs in the VM — hello prints its line through
 * bpf_printk from both programs, trace-open's CO-RE program passes the VM's verifier
 * and runs on a tracepoint record.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { compile, findClang, KERNEL_BTF_PATH } from "../src/compile/index.ts";
import { VirtualMachine } from "../src/vm/index.ts";

const ROOT = join(import.meta.dirname, "..");
const skip = !(await findClang().catch(() => undefined))
  ? "no clang >= 14 on this machine"
  : !existsSync(KERNEL_BTF_PATH) && `no ${KERNEL_BTF_PATH} for vmlinux.h`;
const cacheDir = mkdtempSync(join(tmpdir(), "tsbpf-inline-vm-"));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

/** The C of an inline example. */
function sourceOf(example: string): string {
  const text = readFileSync(join(ROOT, "examples", example), "utf8");
  const c = /\/\* C \*\/ `([\s\S]*?)`;/.exec(text)?.[1];
  assert.ok(c, `no /* C */ template in ${example}`);
  return c;
}

test("hello-inline: both programs print their hello line in the VM", { skip }, async () => {
  const spec = await compile(sourceOf("hello/hello-inline.ts"), { cacheDir });
  using vm = VirtualMachine.load(spec);
  for (const [name, via] of [
    ["hello", "tracepoint"],
    ["hello_kprobe", "kprobe"],
  ] as const) {
    const r = vm.program(name).run({ ctx: new Uint8Array(168) });
    assert.equal(r.retval, 0);
    assert.deepEqual(r.printk.length, 1);
    assert.match(r.printk[0]!, new RegExp(`^hello from \\S+ \\(pid \\d+\\) via ${via}$`));
  }
});

test("trace-open-inline: the CO-RE program loads into the VM and runs", { skip }, async () => {
  const spec = await compile(sourceOf("trace-open/trace-open-inline.ts"), { cacheDir });
  assert.ok((spec.programs.trace_openat?.coreRelocations?.length ?? 0) > 0);
  using vm = VirtualMachine.load(spec);
  assert.equal(vm.program("trace_openat").run({ ctx: new Uint8Array(64) }).retval, 0);
});
