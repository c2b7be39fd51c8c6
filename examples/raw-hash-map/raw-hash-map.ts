/**
 * The raw-syscall hash map: the array example's twin with BPF_MAP_TYPE_HASH.
 *
 * A hash map starts empty, so filling it with BPF_EXIST — "only replace an existing
 * key" — fails with ENOENT; BPF_NOEXIST ("only add a new key") is the flag that fits.
 * Then a lookup of key 7 finds its value, and a lookup of key 1000, which was never
 * added, fails with ENOENT ("No such file or directory").
 *
 * Run (as root): node node_modules/tsbpf/dist/examples/raw-hash-map/raw-hash-map.js
 *   (from the repository: node --conditions=tsbpf-source --import tsx examples/raw-hash-map/raw-hash-map.ts)
 */
import { BpfCall, BpfMap, Fd, SyscallError } from "tsbpf/kernel";
import { BpfCmd, bpfAttr, MapType, UpdateFlags } from "tsbpf/uapi";

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const readU32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(0, true);

const create = new BpfCall(BpfCmd.MAP_CREATE, bpfAttr.mapCreate);
create
  .u32("map_type", MapType.HASH)
  .u32("key_size", 4)
  .u32("value_size", 4)
  .u32("max_entries", 256);
using fd = new Fd(create.invoke("map create"));
console.log(`created hash map (fd ${fd.value}, key 4, value 4, 256 entries)`);

function update(key: number, value: number, flags: number): void {
  const call = new BpfCall(BpfCmd.MAP_UPDATE_ELEM, bpfAttr.mapElem);
  call
    .u32("map_fd", fd.value)
    .input("key", u32(key))
    .input("value", u32(value))
    .set("flags", flags);
  call.invoke(`map update (key ${key})`);
}

try {
  update(0, 0, UpdateFlags.EXIST);
} catch (e) {
  if (!(e instanceof SyscallError)) throw e;
  console.log(`BPF_EXIST on an empty hash map: error ${e.code}: ${e.message}`);
}
for (let key = 0; key < 32; key++) update(key, key * key, UpdateFlags.NOEXIST);
console.log("filled 32 entries with BPF_NOEXIST");

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

using map = BpfMap.fromFd(fd.release());
console.log(
  `BpfMap sees ${[...map.keys()].length} keys; BpfMap.lookup(1000): ${map.lookup(u32(1000))}`,
);
