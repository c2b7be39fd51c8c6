// The pure parts of scripts/test-kernels.mjs: its command line, the Debian package
// picked for a kernel, node:test's summary, the newc cpio writer and the guest's
// /init script. Nothing here touches the machine; test/test-kernels-lib.test.ts
// checks each.

/** Kernels the matrix knows, as given to --kernel. */
export const KERNELS = ["6.1", "6.12", "host"];

export const USAGE = `usage: node scripts/test-kernels.mjs [--kernel 6.1|6.12|host|all] [WORD...]
       node scripts/test-kernels.mjs --kernel 6.1|6.12 -- CMD ARGS...

Boots each kernel (Debian's cloud kernel, fetched with apt and cached under
.cache/kernels/) under qemu and runs \`node scripts/test.mjs WORD...\` in the
repository root inside the guest, or CMD ARGS with --. With no WORD a guest runs the
test files that can reach the kernel and the host runs them all (the others never
call bpf(2): their result is the same on every kernel). Prints
"KERNEL <release>: N passed, N failed, N skipped" per kernel, the boot time and the
total time; exits non-zero when any test or the command fails.
  --kernel K   6.1, 6.12, host (this machine's kernel, natively) or all (default: all)
  --jobs N     kernels run at once (default: the host's CPU count, at most 2); with
               more than one, each output line starts with [RELEASE]
  --memory MB  guest memory (default 3072)
  --timeout S  give up on a guest after S seconds (default 3600)
  --verbose    copy the guest's kernel console to stderr`;

/** A typed error for a bad command line, naming the argument. */
export class UsageError extends Error {
  name = "UsageError";
}

/**
 * Reads the command line: `{ kernels, words, command, jobs, memory, timeout, verbose,
 * help }`. `command` is the argument list after `--` (undefined without `--`); `jobs`
 * is undefined unless given.
 */
export function parseArgs(argv) {
  const out = {
    kernels: [],
    words: [],
    command: undefined,
    jobs: undefined,
    memory: 3072,
    timeout: 3600,
    verbose: false,
    help: false,
  };
  const number = (flag, v) => {
    if (v === undefined || !/^[1-9][0-9]*$/.test(v)) {
      throw new UsageError(`${flag} needs a positive whole number, got ${v ?? "nothing"}`);
    }
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      out.command = argv.slice(i + 1);
      if (out.command.length === 0) throw new UsageError("-- needs a command after it");
      break;
    }
    if (a === "--kernel" || a.startsWith("--kernel=")) {
      const v = a === "--kernel" ? argv[++i] : a.slice("--kernel=".length);
      if (v === undefined) throw new UsageError("--kernel needs a value: 6.1, 6.12, host or all");
      for (const k of v.split(",")) {
        if (k === "all") out.kernels.push(...KERNELS);
        else if (KERNELS.includes(k)) out.kernels.push(k);
        else throw new UsageError(`--kernel ${k}: unknown kernel (6.1, 6.12, host or all)`);
      }
    } else if (a === "--jobs") out.jobs = number(a, argv[++i]);
    else if (a === "--memory") out.memory = number(a, argv[++i]);
    else if (a === "--timeout") out.timeout = number(a, argv[++i]);
    else if (a === "--verbose" || a === "-v") out.verbose = true;
    else if (a === "--help" || a === "-h") out.help = true;
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else out.words.push(a);
  }
  if (out.kernels.length === 0) out.kernels.push(...KERNELS);
  out.kernels = [...new Set(out.kernels)];
  if (out.command && out.words.length > 0) {
    throw new UsageError(
      `test words (${out.words.join(" ")}) and a command after -- exclude each other`,
    );
  }
  if (out.command && out.kernels.length !== 1) {
    throw new UsageError("a command after -- runs on one kernel: give --kernel 6.1, 6.12 or host");
  }
  return out;
}

/** Debian package name patterns per kernel; the capture is the number that orders them. */
export const PACKAGE_PATTERNS = {
  6.1: /^linux-image-6\.1\.0-(\d+)-cloud-amd64-unsigned$/,
  6.12: /^linux-image-6\.12\.(\d+)\+deb12-cloud-amd64-unsigned$/,
};

/** The newest package for `kernel` among apt's package names, or undefined. */
export function pickPackage(kernel, names) {
  const re = PACKAGE_PATTERNS[kernel];
  if (!re) throw new UsageError(`no Debian package for kernel ${kernel}`);
  let best;
  let bestN = -1;
  for (const name of names) {
    const m = re.exec(name.trim());
    if (m && Number(m[1]) > bestN) {
      bestN = Number(m[1]);
      best = m[0];
    }
  }
  return best;
}

/**
 * node:test's totals from its output: TAP (`# pass 3`) or the spec reporter
 * (`ℹ pass 3`). Skipped counts skip and todo. Undefined when no summary is there
 * (the run died before the end).
 */
export function parseTestSummary(text) {
  const get = (key) => {
    const re = new RegExp(`^(?:#|\\u2139) ${key} (\\d+)\\s*$`, "gm");
    let last;
    for (const m of text.matchAll(re)) last = Number(m[1]);
    return last;
  };
  const passed = get("pass");
  const failed = get("fail");
  if (passed === undefined || failed === undefined) return undefined;
  const skipped = (get("skipped") ?? 0) + (get("todo") ?? 0);
  const cancelled = get("cancelled") ?? 0;
  return { passed, failed: failed + cancelled, skipped };
}

/** The one-line result the script prints per kernel. */
export function formatSummary(release, s) {
  if (!s) return `KERNEL ${release}: no test summary (the run did not finish)`;
  return `KERNEL ${release}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
}

/** Quotes one word for sh. */
export function shQuote(s) {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

// --- newc cpio (what the kernel unpacks as an initramfs) ------------------------------

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(n) {
  return n.toString(16).padStart(8, "0");
}

let nextIno = 1000;

/**
 * One newc cpio record: `{ path, type: "dir"|"file"|"symlink", mode, data }`, data a
 * Uint8Array (file contents, symlink target). Returns the header+name+data bytes,
 * padded to 4 as the format requires.
 */
export function cpioRecord(entry) {
  const name = entry.path.replace(/^\/+/, "") || ".";
  const nameBytes = Buffer.from(`${name}\0`);
  let data = entry.data ?? new Uint8Array(0);
  let mode;
  if (entry.type === "dir") {
    mode = S_IFDIR | (entry.mode ?? 0o755);
    data = new Uint8Array(0);
  } else if (entry.type === "symlink") mode = S_IFLNK | 0o777;
  else if (entry.type === "file") mode = S_IFREG | (entry.mode ?? 0o644);
  else throw new TypeError(`cpio entry ${entry.path}: unknown type ${entry.type}`);
  const fields = [
    "070701",
    hex8(entry.ino ?? nextIno++),
    hex8(mode),
    hex8(0), // uid
    hex8(0), // gid
    hex8(entry.type === "dir" ? 2 : 1), // nlink
    hex8(Math.max(0, Math.floor(entry.mtime ?? 0))), // mtime (seconds)
    hex8(data.length),
    hex8(0), // devmajor
    hex8(0), // devminor
    hex8(0), // rdevmajor
    hex8(0), // rdevminor
    hex8(nameBytes.length),
    hex8(0), // check
  ].join("");
  const pad = (n) => (4 - (n % 4)) % 4;
  const headLen = 110 + nameBytes.length;
  return Buffer.concat([
    Buffer.from(fields, "ascii"),
    nameBytes,
    Buffer.alloc(pad(headLen)),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    Buffer.alloc(pad(data.length)),
  ]);
}

/** The trailer that ends a cpio archive. */
export function cpioTrailer() {
  return cpioRecord({ path: "TRAILER!!!", type: "file", mode: 0, ino: 0 });
}

/**
 * Parent directories of `paths` not yet in `seen` (a Set updated in place), parents
 * first, so every file's directory exists before it in the archive.
 */
export function missingParents(path, seen) {
  const out = [];
  const parts = path.replace(/^\/+/, "").split("/");
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join("/");
    if (!seen.has(dir)) {
      seen.add(dir);
      out.push(dir);
    }
  }
  return out;
}

/** A module's name as the kernel spells it (dashes are underscores). */
export function moduleName(file) {
  return file
    .split("/")
    .pop()
    .replace(/\.ko(\.xz|\.zst|\.gz)?$/, "")
    .replaceAll("-", "_");
}

/** The `depends=` list of a module's .modinfo, from the (decompressed) .ko bytes. */
export function modinfoDepends(bytes) {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  const m = /\0depends=([^\0]*)\0/.exec(text);
  return m?.[1] ? m[1].split(",").filter(Boolean).map(moduleName) : [];
}

/**
 * Orders modules so each comes after those it depends on. `depsOf(name)` answers a
 * module's dependencies, or undefined when the kernel has no such module (built in or
 * absent). Returns the names to load in order and the wanted names not found.
 */
export function moduleLoadOrder(wanted, depsOf) {
  const order = [];
  const done = new Set();
  const missing = [];
  const visit = (name, top) => {
    if (done.has(name)) return;
    done.add(name);
    const deps = depsOf(name);
    if (deps === undefined) {
      if (top) missing.push(name);
      return;
    }
    for (const d of deps) visit(d, false);
    order.push(name);
  };
  for (const w of wanted) visit(moduleName(w), true);
  return { order, missing };
}

/** Markers the guest writes on its output port. */
export const READY_MARK = "@@tsbpf-guest-ready@@";
export const EXIT_MARK = "@@tsbpf-guest-exit ";

/**
 * The guest's /init: mounts what tests expect (proc, sys, devtmpfs, bpffs,
 * tracefs, debugfs, cgroup2 at /sys/fs/cgroup/unified), loads `modules` (paths under
 * /lib/modules/<release>), brings lo up, runs `command` (words) in `cwd` with its output
 * piped to the output port /dev/ttyS1, writes the exit marker and powers off.
 */
export function initScript({ release, modules, cwd, command, env = {} }) {
  const q = shQuote;
  const lines = [
    "#!/bin/busybox sh",
    "echo init-start $(/bin/busybox cat /proc/uptime 2>/dev/null) >/dev/ttyS0",
    "/bin/busybox --install -s /bin",
    // The real ip, tc, mount and nm (brought from the host) win over busybox's applets.
    'for t in /usr/sbin/* /usr/bin/*; do [ -e "$t" ] && rm -f "/bin/$(basename "$t")"; done',
    "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "mount -t proc proc /proc",
    "mount -t sysfs sysfs /sys",
    "mount -t devtmpfs devtmpfs /dev 2>/dev/null",
    "mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs shm /dev/shm",
    // /tmp stays on the root (the initramfs, in memory already): a mount there would
    // hide a repository cloned under /tmp, which the guest has at the same path
    "mkdir -p /tmp && chmod 1777 /tmp",
    "mount -t bpf bpf /sys/fs/bpf",
    "mount -t tracefs tracefs /sys/kernel/tracing",
    "mount -t debugfs debugfs /sys/kernel/debug",
    "mount -t tmpfs cgroup /sys/fs/cgroup && mkdir /sys/fs/cgroup/unified && mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified",
    "stty -F /dev/ttyS1 raw -echo 2>/dev/null",
    `for m in ${modules.map((m) => q(`/lib/modules/${release}/${m}`)).join(" ")}; do insmod "$m" || echo "insmod $m failed" >/dev/ttyS1; done`,
    "ip link set lo up",
    "hostname tsbpf-guest",
    ...Object.entries(env).map(([k, v]) => `export ${k}=${q(v)}`),
    "export HOME=/root",
    `cd ${q(cwd)} || { echo "the guest has no ${cwd.replaceAll('"', "")}" >/dev/ttyS1; echo "${EXIT_MARK}1@@" >/dev/ttyS1; reboot -f; }`,
    `echo ${READY_MARK} >/dev/ttyS1`,
    `{ ${command.map(q).join(" ")}; echo $? >/tmp/.tsbpf-status; } </dev/null 2>&1 | cat >/dev/ttyS1`,
    `echo "${EXIT_MARK}$(cat /tmp/.tsbpf-status)@@" >/dev/ttyS1`,
    "sync",
    "reboot -f",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Reads the guest's output port text: the command's output, whether the guest reached
 * the command, and the exit status it wrote (undefined if the guest died first).
 */
export function parseGuestOutput(text) {
  const clean = text.replaceAll("\r", "");
  const ready = clean.indexOf(READY_MARK);
  const exitAt = clean.lastIndexOf(EXIT_MARK);
  let status;
  let end = clean.length;
  if (exitAt >= 0) {
    const m = /^(\d+)@@/.exec(clean.slice(exitAt + EXIT_MARK.length));
    if (m) {
      status = Number(m[1]);
      end = exitAt;
    }
  }
  const start = ready >= 0 ? ready + READY_MARK.length + 1 : 0;
  return { ready: ready >= 0, status, output: clean.slice(start, end) };
}

/** Compressed payload magics in a bzImage and the tool that decompresses each. */
const PAYLOADS = [
  { magic: [0x28, 0xb5, 0x2f, 0xfd], tool: "zstd" },
  { magic: [0x02, 0x21, 0x4c, 0x18], tool: "lz4" },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], tool: "xz" },
  { magic: [0x1f, 0x8b, 0x08], tool: "gzip" },
];

/**
 * Where a bzImage's compressed kernel starts: the setup header's payload_offset
 * (0x248, from the protected-mode code at (setup_sects+1)*512) when it points at a known
 * magic, else the first magic found. `{ offset, tool }` or undefined.
 */
export function findKernelPayload(image) {
  const buf = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const matches = (at) => PAYLOADS.find((p) => p.magic.every((b, i) => buf[at + i] === b));
  if (buf.length > 0x250 && buf.readUInt32LE(0x202) === 0x53726448) {
    const setupSects = buf[0x1f1] || 4;
    const at = (setupSects + 1) * 512 + buf.readUInt32LE(0x248);
    const p = matches(at);
    if (p) return { offset: at, tool: p.tool };
  }
  let best;
  for (const p of PAYLOADS) {
    const at = buf.indexOf(Buffer.from(p.magic));
    if (at >= 0 && (best === undefined || at < best.offset)) best = { offset: at, tool: p.tool };
  }
  return best;
}

/**
 * esbuild's transform options for a project .ts file, as tsx 4 sets them (target the
 * running node, inline source maps, whitespace minified, names kept), with the
 * project's tsconfig compilerOptions. The guest's loader adds `sourcefile`.
 */
export function tsxTransformOptions(nodeVersion, compilerOptions) {
  return {
    loader: "ts",
    format: "esm",
    target: `node${nodeVersion}`,
    sourcemap: "inline",
    minifyWhitespace: true,
    keepNames: true,
    tsconfigRaw: { compilerOptions },
  };
}

/**
 * Output of one of several kernels running at once: `write(text)` passes on whole lines
 * only, each starting with `prefix`, so lines of different guests never interleave
 * mid-line; `end()` passes on a last unfinished line. Without a prefix, text passes
 * through as it comes.
 */
export function lineWriter(prefix, sink) {
  if (!prefix) return { write: sink, end: () => {} };
  let partial = "";
  return {
    write(text) {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      if (lines.length > 0) sink(lines.map((l) => `${prefix}${l}\n`).join(""));
    },
    end() {
      if (partial) sink(`${prefix}${partial}\n`);
      partial = "";
    },
  };
}
