/**
 * A per-cgroup egress firewall: cgroup-firewall.bpf.o on a cgroup this script makes,
 * and a process inside it sending UDP. Datagrams to the blocked port, and anything to
 * the blocked address (127.0.0.2), fail in the sender with EPERM; the rest arrive. The
 * same datagram from this process, outside the cgroup, arrives. The program's counters
 * say how many packets it dropped and passed.
 *
 * Run as root, with cgroup2 mounted:
 *   node node_modules/tsbpf/dist/examples/cgroup-firewall/cgroup-firewall.js [link|attach]
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/cgroup-firewall/cgroup-firewall.ts [link|attach])
 * `link` (the default) attaches through a bpf_link; `attach` with BPF_PROG_ATTACH in
 * multi mode, as `tsbpf cgroup attach CGROUP egress PROG multi` does. Either way the
 * program is detached and the cgroup removed when the script ends.
 */
import { execFileSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { loadCollectionSpec } from "tsbpf/elf";
import { attachCgroup, kernelBackend, type Program, queryCgroup } from "tsbpf/kernel";
import { AttachType } from "tsbpf/uapi";
import { loadCgroupFirewall } from "./cgroup-firewall.gen.ts";

const via = process.argv[2] === "attach" ? "attach" : "link";
const BLOCKED_ADDR = "127.0.0.2";

/** Where cgroup2 is mounted. */
function cgroup2Mount(): string {
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const [, dir, type] = line.split(" ");
    if (type === "cgroup2" && dir) return dir;
  }
  throw new Error("cgroup2 is not mounted (mount -t cgroup2 none /sys/fs/cgroup)");
}

/** An IPv4 address as the kernel's __be32 reads on this (little-endian) host. */
function networkOrder(addr: string): number {
  const bytes = Uint8Array.from(addr.split(".").map(Number));
  return new DataView(bytes.buffer).getUint32(0, true);
}

/** A UDP socket bound to `addr` that counts what arrives. */
async function receiver(
  addr: string,
  port = 0,
): Promise<{ sock: Socket; port: number; n: () => number }> {
  const sock = createSocket("udp4");
  let n = 0;
  sock.on("message", () => n++);
  await new Promise<void>((resolve) => sock.bind(port, addr, resolve));
  return { sock, port: sock.address().port, n: () => n };
}

/**
 * Sends one datagram to each target from a new process that first moves itself into
 * `cgroup` (its sockets then belong to it); returns each send's error code or "ok".
 */
function sendFromCgroup(cgroup: string, targets: readonly [string, number][]): string[] {
  const script = `
    const fs = require("node:fs");
    const dgram = require("node:dgram");
    fs.writeFileSync(process.argv[1] + "/cgroup.procs", String(process.pid));
    const targets = JSON.parse(process.argv[2]);
    const sock = dgram.createSocket("udp4");
    const results = [];
    const next = (i) => {
      if (i === targets.length) {
        sock.close();
        process.stdout.write(JSON.stringify(results));
        return;
      }
      sock.send("hello", targets[i][1], targets[i][0], (e) => {
        results.push(e ? e.code : "ok");
        next(i + 1);
      });
    };
    next(0);`;
  const out = execFileSync(process.execPath, ["-e", script, cgroup, JSON.stringify(targets)], {
    encoding: "utf8",
  });
  return JSON.parse(out) as string[];
}

/** Sends one datagram from this process (outside the cgroup). */
async function sendHere(addr: string, port: number): Promise<string> {
  const sock = createSocket("udp4");
  try {
    return await new Promise((resolve) =>
      sock.send("hello", port, addr, (e) =>
        resolve(e ? String((e as { code?: string }).code) : "ok"),
      ),
    );
  } finally {
    sock.close();
  }
}

const open = await receiver("127.0.0.1");
const blocked = await receiver("127.0.0.1");
const other = await receiver(BLOCKED_ADDR, open.port);
const cgroup = join(cgroup2Mount(), `tsbpf-cgroup-firewall-${process.pid}`);
mkdirSync(cgroup);
try {
  const spec = loadCollectionSpec(readFileSync(join(import.meta.dirname, "cgroup-firewall.bpf.o")));
  using fw = loadCgroupFirewall(kernelBackend, spec, {
    constants: { blocked_port: blocked.port, blocked_addr: networkOrder(BLOCKED_ADDR) },
  });
  const prog = fw.programs.firewall as Program;
  {
    using link =
      via === "link"
        ? attachCgroup(prog, cgroup, AttachType.CGROUP_INET_EGRESS)
        : attachCgroup(prog, cgroup, AttachType.CGROUP_INET_EGRESS, {
            via: "attach",
            mode: "multi",
          });
    const q = queryCgroup(cgroup, AttachType.CGROUP_INET_EGRESS);
    console.log(`${link.description}: programs ${q.programs.map((p) => p.id).join(", ")}`);
    console.log(`blocking udp port ${blocked.port} and address ${BLOCKED_ADDR}`);

    const targets: [string, number][] = [
      ["127.0.0.1", open.port],
      ["127.0.0.1", blocked.port],
      [BLOCKED_ADDR, open.port],
    ];
    const receivers = [open, blocked, other];
    const settle = () => new Promise((r) => setTimeout(r, 200));
    const results = sendFromCgroup(cgroup, targets);
    await settle();
    const got = receivers.map((r) => r.n());
    const outside = await sendHere("127.0.0.1", blocked.port);
    await settle();
    const row = (from: string, to: string, sent: string, n: string | number) =>
      console.log(`${from.padEnd(10)}${to.padEnd(22)}${sent.padEnd(8)}${n}`);
    row("from", "to", "send", "received");
    for (const [i, [addr, port]] of targets.entries()) {
      row("cgroup", `${addr}:${port}`, results[i] ?? "?", got[i] ?? 0);
    }
    row("outside", `127.0.0.1:${blocked.port}`, outside, blocked.n() - (got[1] ?? 0));
    console.log(`dropped ${fw.variables.dropped.get()} passed ${fw.variables.passed.get()}`);
  }
  const left = queryCgroup(cgroup, AttachType.CGROUP_INET_EGRESS).programs.length;
  console.log(`after close: ${left} program(s) on the cgroup`);
} finally {
  rmdirSync(cgroup);
  for (const r of [open, blocked, other]) r.sock.close();
}
