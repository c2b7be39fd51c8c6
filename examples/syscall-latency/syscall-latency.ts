/**
 * A per-process syscall latency histogram, BCC's way (C compiled when the script runs)
 * with tsbpf's pieces: compile() builds the C, the kernel runs it on the raw_syscalls
 * tracepoints, and tsbpf/hist prints one log2 histogram per process, as BCC's tools do.
 *
 * Run (as root): node --conditions=tsbpf-source --import tsx \
 *   examples/syscall-latency/syscall-latency.ts [SECONDS] [PID]
 */
import { compile } from "tsbpf/compile";
import { formatLog2Histogram, readHistograms } from "tsbpf/hist";
import { Collection } from "tsbpf/kernel";

const SOURCE = /* C */ `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct hist_key { __u32 pid; __u32 slot; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, __u64); __type(value, __u64); } start SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 10240);
         __type(key, struct hist_key); __type(value, __u64); } hist SEC(".maps");
const volatile __u32 target_pid = 0;

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter(void *ctx) {
  __u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
  if (target_pid && (id >> 32) != target_pid) return 0;
  bpf_map_update_elem(&start, &id, &now, BPF_ANY);
  return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(void *ctx) {
  __u64 id = bpf_get_current_pid_tgid(), one = 1, *t = bpf_map_lookup_elem(&start, &id);
  if (!t) return 0;
  __u64 us = (bpf_ktime_get_ns() - *t) / 1000;
  bpf_map_delete_elem(&start, &id);
  struct hist_key k = { .pid = id >> 32, .slot = 0 };
  while (us > 1 && k.slot < 63) { us >>= 1; k.slot++; } /* libbpf's log2l slots */
  __u64 *n = bpf_map_lookup_elem(&hist, &k);
  if (n) __sync_fetch_and_add(n, 1);
  else bpf_map_update_elem(&hist, &k, &one, BPF_NOEXIST);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

const seconds = Number(process.argv[2] ?? 5);
const pid = Number(process.argv[3] ?? 0);
const spec = await compile(SOURCE, { name: "syscall-latency.bpf.c" });
using coll = Collection.load(spec, { constants: { target_pid: pid } });
const links = coll.attachAll();
console.error(`Tracing syscalls${pid ? ` of PID ${pid}` : ""} for ${seconds} s...`);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
links.close();
const layout = { kind: "slot-per-entry", slot: { offset: 4 } } as const;
for (const { label, counts } of readHistograms(coll.map("hist"), layout)) {
  console.log(`\npid = ${new DataView(label.buffer, label.byteOffset).getUint32(0, true)}`);
  process.stdout.write(formatLog2Histogram(counts, { unit: "usecs" }));
}
