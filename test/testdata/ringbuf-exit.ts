/**
 * Child process of test/kernel-ringbuf.test.ts: reads through the event loop, closes,
 * leaves one reader idle (never waited on, never closed) and must then exit by
 * itself — no poll handle may keep the loop alive.
 */
import { BpfMap } from "../../src/kernel/maps/map.ts";
import { RingBufferReader } from "../../src/kernel/readers/ringbuf.ts";
import { MapType } from "../../src/uapi/index.ts";
import { PACKET, ringbufProgram } from "../kernel-ringbuf-programs.ts";

const map = BpfMap.create({ name: "rb_exit", type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 });
const prog = ringbufProgram([map.fd], [{ size: 8, how: "output" }]);
const reader = RingBufferReader.open(map);
setTimeout(() => prog.run({ data: PACKET, repeat: 3 }), 20);
let n = 0;
for await (const _ of reader) if (++n === 3) break;
reader.close();
console.log(`got ${n} records`);

const cb = RingBufferReader.open(map);
cb.onRecord(() => {});
cb.close();

const idle = RingBufferReader.open(map);
prog.run({ data: PACKET });
idle.read();
const it = RingBufferReader.open(map);
// an iteration step that found a record at once holds nothing either
await it[Symbol.asyncIterator]().next();
console.log("idle reader did not hold the loop");
