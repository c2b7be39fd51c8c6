/**
 * The raw-syscall array map: bpf(2) called directly, one command at a time, the way
 * the C programs this project grew from do it — then the same map through BpfMap.
 *
 * Creates an ARRAY map (4-byte keys, 4-byte values, 256 entries), fills 32 entries with
 * BPF_EXIST (every index of an array always exists, so EXIST is right), looks a key up
 * and prints it. Looking up key 1000 fails: the array has 256 slots, and the kernel
 * answers ENOENT ("No such file or directory") for an index out of range.
 *
 * Run (as root): node node_modules/tsbpf/dist/examples/raw-array-map/raw-array-map.js
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/raw-array-map/raw-array-map.ts)
 */
import { BpfCall, BpfMap, Fd, SyscallError } from "tsbpf/kernel";
import { BpfCmd, bpfAttr, MapType, UpdateFlags } from "tsbpf/uapi";

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const readU32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(0, true);

// BPF_MAP_CREATE
const create = new BpfCall(BpfCmd.MAP_CREATE, bpfAttr.mapCreate);
create
  .u32("map_type", MapType.ARRAY)
  .u32("key_size", 4)
  .u32("value_size", 4)
  .u32("max_entries", 256);
using fd = new Fd(create.invoke("map create"));
console.log(`created array map (fd ${fd.value}, key 4, value 4, 256 entries)`);

// BPF_MAP_UPDATE_ELEM with BPF_EXIST, 32 times
for (let key = 0; key < 32; key++) {
  const update = new BpfCall(BpfCmd.MAP_UPDATE_ELEM, bpfAttr.mapElem);
  update
    .u32("map_fd", fd.value)
    .input("key", u32(key))
    .input("value", u32(key * key))
    .set("flags", UpdateFlags.EXIST);
  update.invoke(`map update (key ${key})`);
}
console.log("filled 32 entries with BPF_EXIST");

// BPF_MAP_LOOKUP_ELEM
function lookup(key: number): number {
  const call = new BpfCall(BpfCmd.MAP_LOOKUP_ELEM, bpfAttr.mapElem);
  call.u32("map_fd", fd.value).input("key", u32(key));
  const value = call.output("value", 4);
  call.invoke(`map lookup (key ${key})`);
  return readU32(value.bytes);
}

console.log(`lookup key 7: value ${lookup(7)}`);
try {
  lookup(1000);
} catch (e) {
  if (!(e instanceof SyscallError)) throw e;
  console.log(`lookup key 1000: error ${e.code}: ${e.message}`);
}

// The same map through BpfMap, which wraps all of the above.
using map = BpfMap.fromFd(fd.release());
console.log(`BpfMap.lookup(7): ${readU32(map.lookup(u32(7)) as Uint8Array)}`);
console.log(
  `BpfMap.lookup(1000): ${map.lookup(u32(1000))} (BpfMap answers a missing key with undefined)`,
);
