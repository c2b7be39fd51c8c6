/**
 * Load `r0 = 2; exit` as a socket filter and print the kernel verifier's level-2 log:
 * every instruction the verifier walked, with the register state after it.
 *
 * Run (as root): node node_modules/tsbpf/dist/examples/verifier-log/verifier-log.js
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/verifier-log/verifier-log.ts)
 */
import { assemble, encodeProgram } from "tsbpf/isa";
import { Program } from "tsbpf/kernel";
import { ProgType } from "tsbpf/uapi";

const instructions = encodeProgram(assemble("r0 = 2\nexit"));

using prog = Program.load(
  { name: "ret2", type: ProgType.SOCKET_FILTER, license: "GPL", instructions },
  { logLevel: 2 },
);
const info = prog.info();
console.log(`loaded socket_filter program "${info.name}" (id ${info.id}, tag ${info.tag})`);
console.log("verifier log (level 2):");
process.stdout.write(prog.verifierLog ?? "");
