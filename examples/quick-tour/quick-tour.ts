/**
 * The README's "API at a glance", as a program that runs: a hash map filled and read
 * back, then `r0 = 2; exit` loaded as XDP with the verifier's log, test-run on a packet,
 * and disassembled from the kernel's translated instructions.
 *
 * Run (as root): node node_modules/tsbpf/dist/examples/quick-tour/quick-tour.js
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/quick-tour/quick-tour.ts)
 */
import { assemble, disassembleKernel, encodeProgram } from "tsbpf/isa";
import { BpfMap, Program } from "tsbpf/kernel";
import { MapType, ProgType, UpdateFlags } from "tsbpf/uapi";

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);
const readU64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);

using counts = BpfMap.create({
  name: "counts",
  type: MapType.HASH,
  keySize: 4,
  valueSize: 8,
  maxEntries: 1024,
});
for (let k = 0; k < 5; k++) counts.update(u32(k), u64(BigInt(k) * 100n), UpdateFlags.NOEXIST);
console.log(`lookup 3: ${readU64(counts.lookup(u32(3)) ?? new Uint8Array(8))}`);
console.log(`lookup 9: ${counts.lookup(u32(9))}`);
let sum = 0n;
for (const [, v] of counts.entries()) sum += readU64(v);
console.log(`sum of values: ${sum}`);
console.log(`batch lookup: ${counts.lookupBatch(1000).count} entries`);

const instructions = encodeProgram(assemble("r0 = 2\nexit"));
using prog = Program.load(
  { name: "ret2", type: ProgType.XDP, license: "GPL", instructions },
  { logLevel: 2 },
);
console.log(`verifier: ${prog.verifierLog?.trim().split("\n").at(-1)}`);
const { retval, dataOut } = prog.run({ data: new Uint8Array(64), repeat: 1000 });
console.log(`test run: retval ${retval}, ${dataOut.length} bytes out`);
process.stdout.write(disassembleKernel(prog.info().xlatedInstructions, { xlated: true }));
