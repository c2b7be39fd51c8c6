/**
 * Device access per cgroup: cgroup-device.bpf.o on a cgroup this script makes, and a
 * process inside it opening devices. Reading /dev/null fails with EPERM there; writing
 * it, and reading /dev/zero, work; this process, outside the cgroup, still reads
 * /dev/null. The program's counters say how many accesses it denied and allowed.
 *
 * Run as root, with cgroup2 mounted:
 *   node node_modules/tsbpf/dist/examples/cgroup-device/cgroup-device.js
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/cgroup-device/cgroup-device.ts)
 * The program is attached with BPF_PROG_ATTACH (exclusive: no cgroup below may attach
 * another device program), detached and the cgroup removed when the script ends.
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { loadCollectionSpec } from "tsbpf/elf";
import { attachCgroup, kernelBackend, type Program } from "tsbpf/kernel";
import { AttachType } from "tsbpf/uapi";
import { loadCgroupDevice } from "./cgroup-device.gen.ts";

/** Where cgroup2 is mounted. */
function cgroup2Mount(): string {
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const [, dir, type] = line.split(" ");
    if (type === "cgroup2" && dir) return dir;
  }
  throw new Error("cgroup2 is not mounted (mount -t cgroup2 none /sys/fs/cgroup)");
}

const TRIES: readonly [string, "r" | "w"][] = [
  ["/dev/null", "r"],
  ["/dev/null", "w"],
  ["/dev/zero", "r"],
];

/** Opens each device from a new process that first moves itself into `cgroup`. */
function openFromCgroup(cgroup: string): string[] {
  const script = `
    const fs = require("node:fs");
    fs.writeFileSync(process.argv[1] + "/cgroup.procs", String(process.pid));
    const results = JSON.parse(process.argv[2]).map(([path, flags]) => {
      try {
        fs.closeSync(fs.openSync(path, flags));
        return "ok";
      } catch (e) {
        return e.code;
      }
    });
    process.stdout.write(JSON.stringify(results));`;
  const out = execFileSync(process.execPath, ["-e", script, cgroup, JSON.stringify(TRIES)], {
    encoding: "utf8",
  });
  return JSON.parse(out) as string[];
}

const cgroup = join(cgroup2Mount(), `tsbpf-cgroup-device-${process.pid}`);
mkdirSync(cgroup);
try {
  const spec = loadCollectionSpec(readFileSync(join(import.meta.dirname, "cgroup-device.bpf.o")));
  using dev = loadCgroupDevice(kernelBackend, spec, {
    constants: { deny_major: 1, deny_minor: 3 },
  });
  using link = attachCgroup(dev.programs.deny_read as Program, cgroup, AttachType.CGROUP_DEVICE, {
    via: "attach",
  });
  console.log(`${link.description}: denying reads of char device 1:3`);
  const results = openFromCgroup(cgroup);
  for (const [i, [path, flags]] of TRIES.entries()) {
    console.log(`cgroup   ${flags === "r" ? "read " : "write"} ${path.padEnd(10)} ${results[i]}`);
  }
  closeSync(openSync("/dev/null", "r"));
  console.log(`outside  read  /dev/null  ok`);
  console.log(`denied ${dev.variables.denied.get()} allowed ${dev.variables.allowed.get()}`);
} finally {
  rmdirSync(cgroup);
}
