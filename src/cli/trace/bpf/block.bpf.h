/* Shared by tsbpf's block I/O tools (biolatency, biosnoop), on the block tracepoints
 * (block_rq_insert, block_rq_issue, block_rq_complete). Their record layouts change
 * between kernels (6.10 added ioprio and widened rwbs to 10 bytes, which moved comm),
 * so the offsets are not compiled in: user space reads them from each event's tracefs
 * format file and sets these constants before the load. A request is known by its
 * device and start sector: the tracepoints carry no pointer to it. */
#ifndef TSBPF_BLOCK_BPF_H
#define TSBPF_BLOCK_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Offsets of dev (dev_t, u32), sector (u64) and nr_sector (u32) in the three events'
 * records, which agree on them. */
const volatile __u32 off_dev = 8;
const volatile __u32 off_sector = 16;
const volatile __u32 off_nr_sector = 24;

/* Only this device (kernel dev_t, major << 20 | minor); 0 = every device. */
const volatile __u32 targ_dev = 0;

struct rq_key {
  __u32 dev;
  __u32 pad;
  __u64 sector;
};

/* The request the record names, or 0 when the device is filtered out. */
static __always_inline int rq_key_of(void *ctx, struct rq_key *key) {
  key->pad = 0;
  if (bpf_probe_read_kernel(&key->dev, sizeof(key->dev), ctx + off_dev) ||
      bpf_probe_read_kernel(&key->sector, sizeof(key->sector), ctx + off_sector))
    return 0;
  return !targ_dev || key->dev == targ_dev;
}

static __always_inline __u32 rq_sectors(void *ctx) {
  __u32 n = 0;
  bpf_probe_read_kernel(&n, sizeof(n), ctx + off_nr_sector);
  return n;
}

#endif
