/**
 * compile() with the real clang: a program becomes a spec the VM runs; the cache
 * answers without running clang (a wrapper script counts its runs) and misses when a
 * header changes; clang's errors come back typed with file:line:column; a missing or
 * too old clang is a ClangNotFoundError naming the package; vmlinux.h is generated once
 * per BTF hash. Tests that need clang skip without one.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  ClangNotFoundError,
  CompileError,
  compile,
  compileObject,
  findClang,
  KERNEL_BTF_PATH,
  VmlinuxError,
} from "../src/compile/index.ts";
import { parseELF } from "../src/elf/index.ts";
import { MapType, ProgType } from "../src/uapi/index.ts";
import { VirtualMachine } from "../src/vm/index.ts";

const ROOT = join(import.meta.dirname, "..");
const TMP = mkdtempSync(join(tmpdir(), "tsbpf-compile-test-"));
after(() => rmSync(TMP, { recursive: true, force: true }));

const clang = await findClang().catch(() => undefined);
const skip = clang ? false : "no clang >= 14 on this machine";

/** A fresh cache directory. */
let dirs = 0;
const cacheDir = () => join(TMP, `cache-${++dirs}`);

const COUNTER = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} runs SEC(".maps");

SEC("socket")
int count(struct __sk_buff *skb)
{
	__u32 key = INDEX;
	__u64 *v = bpf_map_lookup_elem(&runs, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
`;

test("a program compiles to a spec with its program and map, and runs in the VM", {
  skip,
}, async () => {
  const spec = await compile(COUNTER, { cacheDir: cacheDir(), defines: { INDEX: "2" } });
  assert.deepEqual(Object.keys(spec.programs), ["count"]);
  const prog = spec.programs.count!;
  assert.equal(prog.type, ProgType.SOCKET_FILTER);
  assert.equal(prog.section, "socket");
  assert.equal(prog.license, "GPL");
  const runs = spec.maps.runs!;
  assert.equal(runs.type, MapType.ARRAY);
  assert.deepEqual([runs.keySize, runs.valueSize, runs.maxEntries], [4, 8, 4]);

  using vm = VirtualMachine.load(spec);
  // skb->len past the Ethernet header, as the kernel's test run sets it.
  assert.equal(vm.program("count").run({ data: new Uint8Array(60) }).retval, 46);
  vm.program("count").run({ data: new Uint8Array(14) });
  // -DINDEX=2 chose the slot.
  const slot = vm.map("runs").lookup(new Uint8Array([2, 0, 0, 0]));
  assert.deepEqual(slot, new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0]));
});

test("the object names no temporary path, and the same source gives the same bytes", {
  skip,
}, async () => {
  const a = await compileObject(COUNTER, {
    cache: false,
    defines: { INDEX: "0" },
    name: "c.bpf.c",
  });
  const b = await compileObject(COUNTER, {
    cache: false,
    defines: { INDEX: "0" },
    name: "c.bpf.c",
  });
  assert.equal(a.cached, false);
  assert.deepEqual(a.bytes, b.bytes);
  assert.ok(
    !Buffer.from(a.bytes).includes("tsbpf-compile-"),
    "a temporary directory in the object",
  );
  assert.ok(
    parseELF(a.bytes).sections.some((s) => s.name === ".BTF"),
    "built with -g: has BTF",
  );
});

test("a cache hit runs no clang; a changed header or define is a miss", { skip }, async () => {
  const calls = join(TMP, "calls");
  const wrapper = join(TMP, "clang-wrapper");
  writeFileSync(wrapper, `#!/bin/sh\necho "$@" >> ${calls}\nexec ${clang!.path} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const inc = join(TMP, "inc");
  mkdirSync(inc, { recursive: true });
  writeFileSync(join(inc, "index.h"), "#define INDEX 1\n");
  const source = `#include "index.h"\n${COUNTER}`;
  const opts = { clang: wrapper, cacheDir: cacheDir(), includes: [inc] };
  const runs = () =>
    existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n").length : 0;

  const first = await compileObject(source, opts);
  assert.equal(first.cached, false);
  assert.equal(runs(), 2, "clang --version, then the compile");
  const second = await compileObject(source, opts);
  assert.equal(second.cached, true);
  assert.deepEqual(second.bytes, first.bytes);
  assert.equal(runs(), 2, "a cache hit ran clang");

  writeFileSync(join(inc, "index.h"), "#define INDEX 3\n");
  const edited = await compileObject(source, opts);
  assert.equal(edited.cached, false, "a header read by the source changed");
  assert.equal(runs(), 3);
  assert.equal((await compileObject(source, opts)).cached, true);
  const other = await compileObject(source, { ...opts, defines: { EXTRA: true } });
  assert.equal(other.cached, false);
  assert.equal(runs(), 4);
});

test("a syntax error is a CompileError at its line and column, in the source's name", {
  skip,
}, async () => {
  const source = "#include <linux/bpf.h>\n\nint f(void)\n{\n\treturn 1 +;\n}\n";
  const err = await compile(source, { name: "src/bad.bpf.c", cacheDir: cacheDir() }).catch(
    (e: unknown) => e,
  );
  assert.ok(err instanceof CompileError, String(err));
  const first = err.diagnostics[0]!;
  assert.deepEqual(
    [first.file, first.line, first.column, first.severity],
    ["src/bad.bpf.c", 5, 12, "error"],
  );
  assert.match(
    err.message,
    /^compiling src\/bad\.bpf\.c failed: src\/bad\.bpf\.c:5:12: error: expected expression$/,
  );
  assert.match(err.stderr, /^src\/bad\.bpf\.c:5:12: error: expected expression\n\s+5 \|/m);
  assert.doesNotMatch(err.stderr, /tsbpf-compile-/);
  assert.notEqual(err.exitCode, 0);

  // A missing header: fatal, with the header named.
  const missing = await compile('#include "nope.h"\n', { cacheDir: cacheDir() }).catch((e) => e);
  assert.ok(missing instanceof CompileError);
  assert.deepEqual(
    { ...missing.diagnostics[0] },
    {
      file: "<source>",
      line: 1,
      column: 10,
      severity: "fatal",
      message: "'nope.h' file not found",
    },
  );
});

test("warnings come back with the object, and again from the cache", { skip }, async () => {
  const source = `${COUNTER}int unused(void) { int x; return 0; }\n`;
  const opts = { cacheDir: cacheDir(), defines: { INDEX: "0" }, cflags: ["-Wall"] };
  for (const cached of [false, true]) {
    const r = await compileObject(source, opts);
    assert.equal(r.cached, cached);
    const w = r.diagnostics.find((d) => d.flag === "-Wunused-variable");
    assert.ok(w, r.stderr);
    assert.deepEqual(
      [w.file, w.line, w.severity],
      ["<source>", COUNTER.split("\n").length, "warning"],
    );
  }
});

test("no usable clang: a ClangNotFoundError that names the package to install", async () => {
  const gone = join(TMP, "no-such-clang");
  const err = await compile("int x;", { clang: gone }).catch((e) => e);
  assert.ok(err instanceof ClangNotFoundError);
  assert.deepEqual(err.tried, [{ candidate: `${gone} (the clang option)`, reason: "not found" }]);
  assert.match(err.message, /apt-get install clang-19/);
  assert.equal(err.package, "clang-19");

  // Too old: a "clang" that says it is version 13.
  const old = join(TMP, "clang-old");
  writeFileSync(old, '#!/bin/sh\necho "clang version 13.0.1"\n');
  chmodSync(old, 0o755);
  const tooOld = await findClang({ clang: old, env: {} }).catch((e) => e);
  assert.ok(tooOld instanceof ClangNotFoundError);
  assert.match(tooOld.message, /version 13\.0\.1 is older than 14/);

  // PATH without clang (and no TSBPF_CLANG / CLANG): compile() fails the same way.
  const empty = join(TMP, "empty-bin");
  mkdirSync(empty, { recursive: true });
  writeFileSync(join(empty, "clang-12"), "#!/bin/sh\n");
  chmodSync(join(empty, "clang-12"), 0o755);
  const saved = {
    PATH: process.env.PATH,
    TSBPF_CLANG: process.env.TSBPF_CLANG,
    CLANG: process.env.CLANG,
  };
  try {
    process.env.PATH = empty;
    delete process.env.TSBPF_CLANG;
    delete process.env.CLANG;
    const none = await compile("int x;", { cache: false }).catch((e) => e);
    assert.ok(none instanceof ClangNotFoundError);
    assert.deepEqual(none.tried, [
      { candidate: join(empty, "clang-12"), reason: "older than clang 14" },
    ]);
    assert.match(none.message, /apt-get install clang-19/);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test("bad options are TypeErrors naming the option", async () => {
  await assert.rejects(
    compile("", { defines: { "A B": true } }),
    /compile: defines: "A B" is not a C identifier/,
  );
  await assert.rejects(compile("", { defines: { A: "1\n#define B" } }), /the value of A must be/);
  await assert.rejects(
    // @ts-expect-error: a target clang does not have
    compile("", { target: "x86" }),
    /target "x86" is not one of bpf, bpfel, bpfeb/,
  );
});

/** A BTF file: the .BTF section of a committed example object. */
function btfFileOf(example: string): string {
  const elf = parseELF(
    new Uint8Array(readFileSync(join(ROOT, "examples", example, `${example}.bpf.o`))),
  );
  const path = join(TMP, `${example}.btf`);
  writeFileSync(path, elf.sections.find((s) => s.name === ".BTF")!.data);
  return path;
}

test("vmlinux.h is generated once per BTF, in a directory named by its SHA-256", {
  skip,
}, async () => {
  const dir = cacheDir();
  const traceOpen = btfFileOf("trace-open");
  // struct event comes from the generated header, not from the source.
  const source = '#include "vmlinux.h"\nint size(void) { return sizeof(struct event); }\n';
  await compileObject(source, { cacheDir: dir, vmlinux: traceOpen });
  const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
  const header = join(dir, "vmlinux", sha(traceOpen), "vmlinux.h");
  assert.match(readFileSync(header, "utf8"), /^struct event \{$/m);
  const mtime = statSync(header).mtimeMs;
  // Another source, same BTF: the header is reused, not regenerated.
  await compileObject(`${source}int two(void) { return 2; }\n`, {
    cacheDir: dir,
    vmlinux: traceOpen,
  });
  assert.equal(statSync(header).mtimeMs, mtime);
  // Other BTF, other directory; a source that does not include vmlinux.h makes none.
  await compileObject(source.replace("struct event", "int"), {
    cacheDir: dir,
    vmlinux: btfFileOf("hello"),
  });
  assert.ok(existsSync(join(dir, "vmlinux", sha(join(TMP, "hello.btf")), "vmlinux.h")));
  await compileObject("int x;\n", { cacheDir: cacheDir() });

  const missing = await compile(source, { cacheDir: dir, vmlinux: join(TMP, "nothing") }).catch(
    (e) => e,
  );
  assert.ok(missing instanceof VmlinuxError);
  assert.match(missing.message, /^cannot provide vmlinux\.h from .*nothing: it does not exist$/);
});

test("a CO-RE program against the running kernel's vmlinux.h", {
  skip: skip || (!existsSync(KERNEL_BTF_PATH) && `no ${KERNEL_BTF_PATH}`),
}, async () => {
  const spec = await compile(
    `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(open_enter, int dfd, const char *filename)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	return BPF_CORE_READ(task, real_parent, tgid) + dfd;
}
char LICENSE[] SEC("license") = "GPL";
`,
    { cacheDir: cacheDir() },
  );
  const prog = spec.programs.open_enter!;
  assert.equal(prog.type, ProgType.KPROBE);
  assert.ok((prog.coreRelocations?.length ?? 0) >= 2, "CO-RE relocations for real_parent and tgid");
});
