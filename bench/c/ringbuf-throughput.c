/*
 * Baseline and event source of bench/ringbuf-throughput.ts.
 *
 *   ringbuf-throughput produce TOTAL          (program fd 3)
 *     BPF_PROG_TEST_RUN of the bench's XDP program until it has run TOTAL times;
 *     every run emits one ring buffer record (or counts a drop).
 *   ringbuf-throughput consume TOTAL          (ring buffer map fd 3, program fd 4)
 *     forks a producer as above and reads the ring with libbpf's ring_buffer__poll
 *     until the producer has exited and the ring is drained; prints
 *     "<records consumed> <elapsed ns> <checksum>".
 *   ringbuf-throughput drain TOTAL            (ring buffer map fd 3, program fd 4)
 *     runs the program TOTAL times first (the ring must hold them all), then times
 *     one ring_buffer__consume of the full ring; prints the same line.
 *
 * Built by the bench with `cc -O2 ... -lbpf`.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 200000

static int produce(int prog_fd, long total) {
  unsigned char pkt[64] = {0};
  long done = 0;
  while (done < total) {
    long n = total - done < CHUNK ? total - done : CHUNK;
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
                .repeat = (int)n);
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
      fprintf(stderr, "test run: %s\n", strerror(errno));
      return 1;
    }
    done += n;
  }
  return 0;
}

static long consumed;
static uint64_t checksum;

static int on_sample(void *ctx, void *data, size_t size) {
  (void)ctx;
  (void)size;
  checksum += *(uint32_t *)data;
  consumed++;
  return 0;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s produce|consume TOTAL\n", argv[0]);
    return 2;
  }
  long total = atol(argv[2]);
  if (strcmp(argv[1], "produce") == 0) return produce(3, total);

  struct ring_buffer *rb = ring_buffer__new(3, on_sample, NULL, NULL);
  if (!rb) {
    fprintf(stderr, "ring_buffer__new: %s\n", strerror(errno));
    return 1;
  }
  if (strcmp(argv[1], "drain") == 0) {
    if (produce(4, total) != 0) return 1;
    uint64_t t0 = now_ns();
    int n = ring_buffer__consume(rb);
    uint64_t ns = now_ns() - t0;
    if (n < 0) {
      fprintf(stderr, "ring_buffer__consume: %s\n", strerror(-n));
      return 1;
    }
    printf("%ld %llu %llu\n", consumed, (unsigned long long)ns, (unsigned long long)checksum);
    ring_buffer__free(rb);
    return 0;
  }
  uint64_t start = now_ns();
  pid_t child = fork();
  if (child == 0) _exit(produce(4, total));
  int status = 0;
  for (;;) {
    int n = ring_buffer__poll(rb, 10);
    if (n < 0 && n != -EINTR) {
      fprintf(stderr, "ring_buffer__poll: %s\n", strerror(-n));
      return 1;
    }
    if (waitpid(child, &status, WNOHANG) == child) break;
  }
  ring_buffer__consume(rb);
  uint64_t elapsed = now_ns() - start;
  printf("%ld %llu %llu\n", consumed, (unsigned long long)elapsed, (unsigned long long)checksum);
  ring_buffer__free(rb);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
