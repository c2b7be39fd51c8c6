#!/usr/bin/env node
// The kernel matrix: runs tsbpf's tests (or any command) inside qemu guests booted on
// Debian's 6.1 and 6.12 cloud kernels, and natively on the host kernel.
//
//   node scripts/test-kernels.mjs [--kernel 6.1|6.12|host|all] [WORD...]
//   node scripts/test-kernels.mjs --kernel 6.12 -- CMD ARGS...
//
// Kernels: `apt-get download` of the newest linux-image-6.1.0-*-cloud-amd64-unsigned and
// linux-image-6.12.*+deb12-cloud-amd64-unsigned, extracted with dpkg-deb -x and cached
// under .cache/kernels/ (gitignored). "host" is the running kernel: booted under qemu
// from /boot/vmlinuz-RELEASE (modules from /lib/modules) when /boot has it, else run
// natively, without qemu — as on the machine this was written on, whose 6.18 kernel has
// no image in /boot.
//
// Guest root: one uncompressed initramfs (no decompression under TCG), concatenated
// from three cpio archives: busybox, node and the tools tests use (bpftool, ip, tc,
// setpriv, nm; dash as sh, coreutils sleep) with their shared libraries (cached); the
// kernel's modules tests need (veth, dummy, sch_ingress, cls_bpf, act_bpf, tun,
// decompressed and loaded at boot) and its config in /boot (cached per kernel); and the
// repository (working tree without .git, dist/ and
// node_modules without Biome's binaries) at the same absolute path, written per run.
// Everything lives in the guest's tmpfs, so tests can write anywhere. clang, llvm and
// python3 are not aboard: tests needing them skip with the tool's name.
//
// qemu: KVM first when /dev/kvm opens, TCG (-accel tcg,thread=multi -cpu max -smp 2)
// when it does not or when nested KVM stops the guest ("KVM internal error"). The kernel
// console goes to .cache/kernels/console-<kernel>.log (stderr with --verbose); the
// command's output comes back on a second serial port, with its exit status after it.
//
// Kernel command line: lsm=lockdown,capability,yama,bpf (BPF LSM programs need "bpf").
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { kernelFacingTests, testFiles } from "./test-files.mjs";
import {
  cpioRecord,
  cpioTrailer,
  EXIT_MARK,
  findKernelPayload,
  formatSummary,
  initScript,
  lineWriter,
  missingParents,
  modinfoDepends,
  moduleLoadOrder,
  moduleName,
  parseArgs,
  parseGuestOutput,
  parseTestSummary,
  pickPackage,
  READY_MARK,
  tsxTransformOptions,
  USAGE,
  UsageError,
} from "./test-kernels-lib.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CACHE = join(ROOT, ".cache", "kernels");
/**
 * Host programs brought into the guest with their shared libraries. sh (dash) and
 * sleep replace busybox's: busybox sh runs `exec sleep` as its own applet, so a traced
 * exec would show busybox, not the sleep tests look for. perl is the trace tools' child
 * with known scheduling and syscalls (builtins only, no modules); umount is mountsnoop's.
 */
const TOOLS = ["bpftool", "ip", "tc", "setpriv", "nm", "sh", "sleep", "perl", "umount"];
/** Kernel modules loaded at boot (with what they depend on). */
const MODULES = ["veth", "dummy", "sch_ingress", "cls_bpf", "act_bpf", "tun", "loop"];
/** What the guest's node_modules leaves out (Biome's native binaries: 97 MB, lint only). */
const SKIP_NODE_MODULES = new Set(["@biomejs"]);

const t0 = performance.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const log = (s) => process.stderr.write(`test-kernels: ${s}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28, ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${(r.stderr ?? "").trim()}`);
  }
  return r.stdout;
}

// --- kernels ---------------------------------------------------------------------------

function aptNames() {
  return run("apt-cache", ["pkgnames", "linux-image-6."]).split("\n");
}

/** Downloads (once) and extracts the newest Debian cloud kernel for `kernel`. */
function ensureKernel(kernel) {
  mkdirSync(CACHE, { recursive: true });
  let names = aptNames();
  let pkg = pickPackage(kernel, names);
  if (!pkg) {
    log("apt knows no cloud kernel package: apt-get update");
    run("apt-get", ["update", "-qq"]);
    names = aptNames();
    pkg = pickPackage(kernel, names);
  }
  if (!pkg) throw new Error(`apt has no package for kernel ${kernel}`);
  const dir = join(CACHE, pkg);
  if (!existsSync(join(dir, "version"))) {
    log(`apt-get download ${pkg}`);
    const tmp = `${dir}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    run("apt-get", ["download", "-q", pkg], { cwd: tmp });
    const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${tmp}`);
    const version = run("dpkg-deb", ["-f", join(tmp, deb), "Version"]).trim();
    run("dpkg-deb", ["-x", join(tmp, deb), join(tmp, "root")]);
    rmSync(join(tmp, deb));
    writeFileSync(join(tmp, "version"), `${version}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  const release = readdirSync(join(dir, "root", "lib", "modules"))[0];
  const vmlinuz = join(dir, "root", "boot", `vmlinuz-${release}`);
  return {
    kernel,
    pkg,
    version: readFileSync(join(dir, "version"), "utf8").trim(),
    release,
    dir,
    root: join(dir, "root"),
    image: ensureVmlinux(dir, vmlinuz) ?? vmlinuz,
  };
}

/**
 * The running kernel, when /boot has its image: booted under qemu like the others, with
 * its modules from /lib/modules. Undefined when there is no image (then "host" runs
 * natively).
 */
function hostKernel(release) {
  const vmlinuz = `/boot/vmlinuz-${release}`;
  if (!existsSync(vmlinuz) || !existsSync(`/lib/modules/${release}`)) return undefined;
  const dir = join(CACHE, `host-${release}`);
  mkdirSync(dir, { recursive: true });
  return {
    kernel: "host",
    pkg: "the running kernel's",
    version: release,
    release,
    dir,
    root: "/",
    image: ensureVmlinux(dir, vmlinuz) ?? vmlinuz,
  };
}

/**
 * The uncompressed ELF vmlinux inside a bzImage, made once: qemu boots it through PVH
 * (both kernels have CONFIG_PVH), which skips the decompressor, 1.5-2 s under TCG.
 * Undefined when the payload's compression is not one of zstd, lz4, xz, gzip.
 */
function ensureVmlinux(dir, vmlinuz) {
  const out = join(dir, "vmlinux");
  if (existsSync(out)) return out;
  const image = readFileSync(vmlinuz);
  const found = findKernelPayload(image);
  if (!found) return undefined;
  const r = spawnSync(found.tool, ["-dc"], {
    input: image.subarray(found.offset),
    maxBuffer: 1 << 30,
  });
  // The payload is followed by other bytes, which the tools report as an error after
  // writing the kernel: accept any output that is an ELF file.
  const elf = r.stdout;
  if (!elf || elf.length < 1 << 20 || elf.readUInt32BE(0) !== 0x7f454c46) return undefined;
  writeFileSync(`${out}.partial`, elf);
  renameSync(`${out}.partial`, out);
  return out;
}

// --- cpio archives ---------------------------------------------------------------------

/** Writes cpio records to a file, creating parent directories on the way. */
class CpioWriter {
  constructor(path) {
    this.path = path;
    this.fd = openSync(path, "w");
    this.dirs = new Set();
  }
  #write(entry) {
    writeSync(this.fd, cpioRecord(entry));
  }
  #parents(path) {
    for (const d of missingParents(path, this.dirs)) this.#write({ path: d, type: "dir" });
  }
  dir(path, mode = 0o755) {
    const p = path.replace(/^\/+/, "");
    this.#parents(p);
    if (!this.dirs.has(p)) {
      this.dirs.add(p);
      this.#write({ path: p, type: "dir", mode });
    }
  }
  file(path, data, mode = 0o644, mtime = 0) {
    this.#parents(path);
    this.#write({ path, type: "file", data, mode, mtime });
  }
  symlink(path, target) {
    this.#parents(path);
    this.#write({ path, type: "symlink", data: Buffer.from(target) });
  }
  /** Copies a host file (following symlinks) to `path` in the archive. */
  copy(host, path = host) {
    const st = statSync(host);
    this.file(path, readFileSync(host), st.mode & 0o7777, st.mtimeMs / 1000);
  }
  /** Copies a host tree; `skip(rel)` leaves a path (and what is under it) out. */
  tree(host, path, skip = () => false) {
    this.dir(path);
    for (const e of readdirSync(host, { withFileTypes: true })) {
      const h = join(host, e.name);
      const p = join(path, e.name);
      if (skip(p, e)) continue;
      if (e.isSymbolicLink()) this.symlink(p, readlinkSync(h));
      else if (e.isDirectory()) this.tree(h, p, skip);
      else if (e.isFile()) this.copy(h, p);
    }
  }
  close() {
    writeSync(this.fd, cpioTrailer());
    closeSync(this.fd);
  }
}

/** Shared libraries of a host binary, as ldd lists them (their paths in the guest). */
function sharedLibs(binary) {
  const out = run("ldd", [binary]);
  const libs = [];
  for (const line of out.split("\n")) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

function which(name) {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** busybox, node, the tools and their libraries: cached while none of them changes. */
function ensureBase() {
  const busybox = ["/bin/busybox", "/usr/bin/busybox"].find(existsSync);
  const dyn = busybox && spawnSync("ldd", [busybox], { encoding: "utf8" });
  if (
    !busybox ||
    !/not a dynamic executable|statically linked/.test(`${dyn.stdout}${dyn.stderr}`)
  ) {
    throw new Error("needs a static busybox: apt-get install busybox-static");
  }
  const bins = [process.execPath, ...TOOLS.map(which).filter(Boolean)];
  const key = createHash("sha256");
  // ld.so.cache: tests resolve libraries by name ("c" -> libc.so.6) as the loader does.
  const ldCache = existsSync("/etc/ld.so.cache") ? ["/etc/ld.so.cache"] : [];
  for (const b of [busybox, ...bins, ...ldCache]) {
    const st = statSync(b);
    key.update(`${b} ${st.size} ${st.mtimeMs}\n`);
  }
  const path = join(CACHE, `base-${key.digest("hex").slice(0, 16)}.cpio`);
  if (existsSync(path)) return path;
  log("building the guest's base archive (busybox, node, tools)");
  const w = new CpioWriter(`${path}.partial`);
  for (const d of ["proc", "sys", "dev", "tmp", "root", "run", "var/run/netns", "etc"]) w.dir(d);
  w.copy(busybox, "bin/busybox");
  const libs = new Set();
  for (const b of bins) {
    w.copy(b, b);
    for (const l of sharedLibs(b)) libs.add(l);
  }
  for (const l of libs) w.copy(l, l);
  for (const f of ldCache) w.copy(f, f);
  w.file(
    "etc/passwd",
    Buffer.from("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"),
  );
  w.file("etc/group", Buffer.from("root:x:0:\nnogroup:x:65534:\n"));
  w.file("etc/hosts", Buffer.from("127.0.0.1 localhost tsbpf-guest\n::1 localhost\n"));
  w.close();
  renameSync(`${path}.partial`, path);
  return path;
}

/**
 * The modules tests need, decompressed, in load order, and the kernel's config at
 * /boot/config-RELEASE (where Debian puts it; kconfig externs and feature probes read
 * it): cached per kernel and module list.
 */
function ensureModules(k) {
  // keyed by the module list: a module added to MODULES builds a new archive
  const key = createHash("sha1").update(MODULES.join(",")).digest("hex").slice(0, 12);
  const path = join(k.dir, `modules-${key}.cpio`);
  const orderPath = join(k.dir, `modules-${key}.order.json`);
  if (existsSync(path) && existsSync(orderPath)) {
    return { path, order: JSON.parse(readFileSync(orderPath, "utf8")) };
  }
  const base = join(k.root, "lib", "modules", k.release);
  // The package ships no modules.dep (its postinst runs depmod, which may be absent
  // here): dependencies come from each module's .modinfo.
  const files = new Map();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ko(\.xz|\.zst)?$/.test(e.name)) files.set(moduleName(e.name), p);
    }
  };
  walk(join(base, "kernel"));
  const bytes = new Map();
  const load = (name) => {
    const host = files.get(name);
    if (!host) return undefined;
    if (!bytes.has(name)) {
      let data;
      if (host.endsWith(".xz")) data = run("xz", ["-dc", host], { encoding: "buffer" });
      else if (host.endsWith(".zst")) data = run("zstd", ["-dc", host], { encoding: "buffer" });
      else data = readFileSync(host);
      bytes.set(name, data);
    }
    return bytes.get(name);
  };
  const { order, missing } = moduleLoadOrder(MODULES, (name) => {
    const data = load(name);
    return data && modinfoDepends(data);
  });
  if (missing.length) log(`${k.release} has no module ${missing.join(", ")} (built in or absent)`);
  const w = new CpioWriter(`${path}.partial`);
  const config = join(k.root, "boot", `config-${k.release}`);
  if (existsSync(config)) w.copy(config, `boot/config-${k.release}`);
  const plain = [];
  for (const name of order) {
    const rel = `${relative(base, files.get(name)).replace(/\.(xz|zst)$/, "")}`;
    w.file(`lib/modules/${k.release}/${rel}`, load(name));
    plain.push(rel);
  }
  w.close();
  renameSync(`${path}.partial`, path);
  writeFileSync(orderPath, JSON.stringify(plain));
  return { path, order: plain };
}

/**
 * The repository and the /init that runs `command`: written for every run. Every .ts
 * file goes in compiled too (/tsbpf-js/<sha1 of its text>.js, esbuild with tsx's
 * options), served by scripts/guest-tsx-loader.mjs in place of tsx's own loader.
 */
async function projectArchive(path, k, modules, command) {
  const w = new CpioWriter(path);
  const top = ROOT.replace(/^\/+/, "");
  const skipTop = new Set([".git", ".cache", "node_modules"]);
  const tsFiles = [];
  w.tree(ROOT, top, (p, e) => {
    const rel = relative(top, p);
    if (e.isFile() && rel.endsWith(".ts") && !rel.endsWith(".d.ts")) tsFiles.push(join(ROOT, rel));
    return skipTop.has(rel);
  });
  const nm = join(ROOT, "node_modules");
  const loaderAt = join(top, "node_modules", "tsx", "dist", "loader.mjs");
  if (existsSync(nm)) {
    w.tree(realpathSync(nm), join(top, "node_modules"), (p) => {
      const rel = relative(join(top, "node_modules"), p);
      return SKIP_NODE_MODULES.has(rel) || p === loaderAt;
    });
    w.copy(join(ROOT, "scripts", "guest-tsx-loader.mjs"), loaderAt);
  }
  const esbuild = await import("esbuild");
  const { compilerOptions } = JSON.parse(readFileSync(join(ROOT, "tsconfig.json"), "utf8"));
  const options = tsxTransformOptions(process.versions.node, compilerOptions);
  w.file("tsbpf-js/options.json", Buffer.from(JSON.stringify(options)));
  for (const file of tsFiles) {
    const text = readFileSync(file, "utf8");
    const hash = createHash("sha1").update(text).digest("hex");
    const js = esbuild.transformSync(text, { ...options, sourcefile: file }).code;
    w.file(`tsbpf-js/${hash}.js`, Buffer.from(js));
  }
  w.file(
    "init",
    Buffer.from(
      initScript({
        release: k.release,
        modules,
        cwd: ROOT,
        command,
        // TSBPF_KERNEL_MATRIX: tests that cannot depend on the kernel skip (hostOnly)
        env: { CI: process.env.CI ?? "", TSBPF_KERNEL_MATRIX: k.kernel },
      }),
    ),
    0o755,
  );
  w.close();
}

function concat(out, parts) {
  const fd = openSync(out, "w");
  for (const p of parts) writeSync(fd, readFileSync(p));
  closeSync(fd);
}

// --- qemu ------------------------------------------------------------------------------

function kvmUsable() {
  try {
    closeSync(openSync("/dev/kvm", constants.O_RDWR));
    return true;
  } catch {
    return false;
  }
}

/**
 * Boots `k` with `initrd` and returns `{ status, output, bootMs, accel }`. Streams the
 * command's output to stdout as it arrives.
 */
function boot(k, initrd, opts, accel, out) {
  return new Promise((resolveBoot) => {
    const consoleLog = join(CACHE, `console-${k.kernel}.log`);
    const args = [
      "-nodefaults",
      "-display",
      "none",
      "-no-reboot",
      ...(accel === "kvm"
        ? ["-accel", "kvm", "-cpu", "host"]
        : ["-accel", `tcg,thread=${process.env.TSBPF_TCG_THREAD ?? "multi"}`, "-cpu", "max"]),
      "-smp",
      "2",
      "-m",
      String(opts.memory),
      "-kernel",
      k.image,
      "-initrd",
      initrd,
      "-append",
      "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init lsm=lockdown,capability,yama,bpf mitigations=off",
      "-chardev",
      `file,id=con,path=${consoleLog}`,
      "-serial",
      "chardev:con",
      "-serial",
      "stdio",
    ];
    const start = performance.now();
    const q = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    let printed = 0;
    let bootMs;
    let kvmFailed = false;
    let stderr = "";
    const timer = setTimeout(() => {
      log(`${k.release}: no exit after ${opts.timeout} s, stopping qemu`);
      q.kill("SIGKILL");
    }, opts.timeout * 1000);
    q.stdout.on("data", (chunk) => {
      text += chunk.toString("latin1");
      const clean = text.replaceAll("\r", "");
      const ready = clean.indexOf(READY_MARK);
      if (ready < 0) return;
      if (bootMs === undefined) {
        bootMs = performance.now() - start;
        log(`${k.release}: booted to the first command in ${secs(bootMs)} (${accel})`);
      }
      // Print whole lines after the ready mark, holding back the exit marker.
      const from = ready + READY_MARK.length + 1;
      const nl = clean.lastIndexOf("\n");
      if (nl + 1 > from + printed) {
        let piece = clean.slice(from + printed, nl + 1);
        printed += piece.length;
        const at = piece.indexOf(EXIT_MARK);
        if (at >= 0) piece = piece.slice(0, at);
        out.write(Buffer.from(piece, "latin1").toString());
      }
    });
    q.stderr.on("data", (chunk) => {
      stderr += chunk.toString();
      if (/KVM internal error|emulation failure/.test(stderr) && !kvmFailed) {
        kvmFailed = true;
        q.kill("SIGKILL");
      }
    });
    q.on("close", (code, signal) => {
      clearTimeout(timer);
      const r = parseGuestOutput(text);
      if (opts.verbose || r.status === undefined) {
        try {
          const con = readFileSync(consoleLog, "utf8");
          if (opts.verbose) process.stderr.write(con);
          else if (!kvmFailed)
            process.stderr.write(
              `--- kernel console (last lines) ---\n${con.split("\n").slice(-40).join("\n")}\n`,
            );
        } catch {}
      }
      if (r.status === undefined && !kvmFailed) {
        log(
          `qemu exited (${signal ?? code}) without the command's status${stderr ? `: ${stderr.trim()}` : ""}`,
        );
      }
      resolveBoot({ ...r, bootMs, accel, kvmFailed });
    });
  });
}

async function runGuest(k, command, opts, out) {
  const base = ensureBase();
  const mods = ensureModules(k);
  const work = join(CACHE, `run-${process.pid}-${k.kernel}`);
  mkdirSync(work, { recursive: true });
  try {
    const project = join(work, "project.cpio");
    await projectArchive(project, k, mods.order, command);
    const initrd = join(work, "initrd.cpio");
    concat(initrd, [base, mods.path, project]);
    log(`${k.release}: initramfs ${(statSync(initrd).size / 1e6).toFixed(0)} MB`);
    let r;
    if (kvmUsable()) {
      r = await boot(k, initrd, opts, "kvm", out);
      if (r.kvmFailed || (r.status === undefined && !r.ready)) {
        log("KVM cannot run this guest (nested KVM emulation failure): falling back to TCG");
        r = undefined;
      }
    }
    r ??= await boot(k, initrd, opts, "tcg", out);
    return r;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The host kernel: runs natively (this machine's kernel has no image to boot). */
function runHost(command, out) {
  return new Promise((res) => {
    const c = spawn(command[0], command.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (d) => {
      output += d;
      out.write(d.toString());
    };
    c.stdout.on("data", take);
    c.stderr.on("data", take);
    c.on("close", (code) => res({ status: code ?? 1, output, ready: true, accel: "native" }));
  });
}

function ensureDist() {
  if (existsSync(join(ROOT, "dist", "index.js"))) return;
  log("dist/ is not built: npm run build");
  run("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "inherit" });
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  ensureDist();
  const all = testFiles(ROOT);
  const facing = kernelFacingTests(ROOT, all);
  const jobs = Math.min(opts.jobs ?? Math.min(2, availableParallelism()), opts.kernels.length);
  const results = [];
  const queue = [...opts.kernels];
  const worker = async () => {
    for (let kernel = queue.shift(); kernel !== undefined; kernel = queue.shift()) {
      const kt0 = performance.now();
      const sink = (t) => process.stdout.write(t);
      const out = lineWriter(jobs > 1 ? `[${kernel}] ` : "", sink);
      let k;
      let r;
      let command = opts.command ?? ["node", "scripts/test.mjs", ...opts.words];
      const hostRelease = kernel === "host" ? run("uname", ["-r"]).trim() : "";
      const host = kernel === "host" ? hostKernel(hostRelease) : undefined;
      if (kernel !== "host" && !opts.command && opts.words.length === 0) {
        command = ["node", "scripts/test.mjs", ...facing];
        log(
          `${kernel}: the ${facing.length} test files that can reach the kernel (${all.length - facing.length} others run on the host only)`,
        );
      }
      if (kernel === "host" && !host) {
        log(`host: ${hostRelease}, natively (/boot has no image of it to boot under qemu)`);
        k = { kernel, release: hostRelease };
        r = await runHost(command, out);
      } else if (host) {
        k = host;
        log(`host: ${k.release}, booting /boot/vmlinuz-${k.release} under qemu`);
        r = await runGuest(k, command, opts, out);
      } else {
        k = ensureKernel(kernel);
        log(`${kernel}: ${k.pkg} ${k.version} (${k.release})`);
        r = await runGuest(k, command, opts, out);
      }
      out.end();
      const ms = performance.now() - kt0;
      results.push({ k, r, ms, summary: opts.command ? undefined : parseTestSummary(r.output) });
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  results.sort((a, b) => opts.kernels.indexOf(a.k.kernel) - opts.kernels.indexOf(b.k.kernel));
  let failed = false;
  for (const { k, r, ms, summary } of results) {
    if (r.status !== 0) failed = true;
    const times = `boot ${r.bootMs === undefined ? "-" : secs(r.bootMs)} (${r.accel}), ${secs(ms)} in all`;
    if (opts.command)
      console.log(`KERNEL ${k.release}: exit status ${r.status ?? "none (guest died)"}; ${times}`);
    else console.log(`${formatSummary(k.release, summary)}; ${times}`);
  }
  console.log(`total: ${secs(performance.now() - t0)}`);
  if (opts.command && results.length === 1) return results[0].r.status ?? 1;
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`test-kernels: ${e.message}`);
    process.exit(1);
  },
);
