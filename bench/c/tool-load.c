/*
 * Load generator for bench/tools.ts: makes the events one `tsbpf trace` tool reports,
 * flat out, for a given time, and prints how many it made:
 *
 *   tool-load MODE SECONDS [ARG]
 *     prints "<operations> <seconds>" (the operations done and the time they took).
 *
 * MODE and what one operation is:
 *   open     openat(ARG, O_RDONLY) + close           (opensnoop: one open each)
 *   stat     stat(ARG), which glibc makes newfstatat (statsnoop: one stat each)
 *   syscall  getppid()                               (syscount: one syscall each)
 *   kill     kill(getpid(), 0), a signal 0 probe     (killsnoop: one kill each)
 *   exec     fork, exec ARG (this binary) with "noop", wait (execsnoop: one exec each)
 *   bio      4 KiB O_DIRECT pread of block device ARG, offsets cycling (biolatency)
 *   tcp      connect to a listener on 127.0.0.1 in a child, close with RST (tcpconnect)
 *   sched    a one-byte ping-pong over two pipes with a child, both on the CPU the
 *            load starts on (runqlat: two wakeups, each a context switch on that CPU
 *            rather than a wake from idle on the other, whose speed varies with what
 *            else keeps that CPU busy)
 *   noop     exit 0 at once (the exec mode's target)
 *
 * The clock is read every BATCH operations for the cheap modes so that reading it does
 * not weigh on the rate; the expensive ones read it after each operation.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 64, BLOCK = 4096, BIO_SPAN = 256 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "tool-load: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* One operation of a mode; returns 0, or exits the process on an unexpected failure. */
typedef void (*op_fn)(void);

static const char *arg_path;
static int bio_fd = -1;
static void *bio_buf;
static uint64_t bio_next;
static struct sockaddr_in tcp_addr;
static int ping[2], pong[2];

static void op_open(void) {
  int fd = open(arg_path, O_RDONLY);
  if (fd < 0) die("open");
  close(fd);
}

static void op_stat(void) {
  struct stat st;
  if (stat(arg_path, &st) != 0) die("stat");
}

static void op_syscall(void) { (void)getppid(); }

static void op_kill(void) {
  if (kill(getpid(), 0) != 0) die("kill");
}

static void op_exec(void) {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    execl(arg_path, arg_path, "noop", (char *)NULL);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) < 0) die("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "tool-load: exec of %s failed (status %d)\n", arg_path, status);
    exit(1);
  }
}

static void op_bio(void) {
  off_t off = (off_t)(bio_next++ % BIO_SPAN) * BLOCK;
  if (pread(bio_fd, bio_buf, BLOCK, off) != BLOCK) die("pread O_DIRECT");
}

static void op_tcp(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) die("socket");
  if (connect(s, (struct sockaddr *)&tcp_addr, sizeof tcp_addr) != 0) die("connect");
  /* Linger 0: close sends a reset, so no TIME_WAIT piles up and ports do not run out. */
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(s);
}

static void op_sched(void) {
  char c = 1;
  if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) die("pipe ping-pong");
}

/* A child that accepts and closes connections until killed; returns its pid. */
static pid_t start_listener(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0) die("socket");
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  tcp_addr.sin_family = AF_INET;
  tcp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  tcp_addr.sin_port = 0;
  if (bind(l, (struct sockaddr *)&tcp_addr, sizeof tcp_addr) != 0) die("bind");
  if (listen(l, 4096) != 0) die("listen");
  socklen_t len = sizeof tcp_addr;
  if (getsockname(l, (struct sockaddr *)&tcp_addr, &len) != 0) die("getsockname");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    for (;;) {
      int c = accept(l, NULL, NULL);
      if (c >= 0) close(c);
    }
  }
  close(l);
  return pid;
}

/* A child that answers each byte on `ping` with one on `pong`; returns its pid. */
static pid_t start_echo(void) {
  if (pipe(ping) != 0 || pipe(pong) != 0) die("pipe");
  /* Pinned before the fork, so the child shares the CPU. */
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0) die("sched_setaffinity");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    char c;
    while (read(ping[0], &c, 1) == 1)
      if (write(pong[1], &c, 1) != 1) break;
    _exit(0);
  }
  return pid;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "noop") == 0) return 0;
  if (argc < 3) {
    fprintf(stderr, "usage: tool-load open|stat|syscall|kill|exec|bio|tcp|sched SECONDS [ARG]\n");
    return 2;
  }
  const char *mode = argv[1];
  double seconds = atof(argv[2]);
  if (!(seconds > 0)) {
    fprintf(stderr, "tool-load: SECONDS must be > 0, not '%s'\n", argv[2]);
    return 2;
  }
  arg_path = argc > 3 ? argv[3] : NULL;
  int batch = BATCH;
  pid_t helper = 0;
  op_fn op;
  if (strcmp(mode, "open") == 0) op = op_open;
  else if (strcmp(mode, "stat") == 0) op = op_stat;
  else if (strcmp(mode, "syscall") == 0) op = op_syscall;
  else if (strcmp(mode, "kill") == 0) op = op_kill;
  else if (strcmp(mode, "exec") == 0) op = op_exec, batch = 1;
  else if (strcmp(mode, "bio") == 0) {
    op = op_bio, batch = 1;
    if (arg_path) bio_fd = open(arg_path, O_RDONLY | O_DIRECT);
    if (bio_fd < 0) die("open O_DIRECT (bio needs a block device as ARG)");
    if (posix_memalign(&bio_buf, BLOCK, BLOCK) != 0) die("posix_memalign");
  } else if (strcmp(mode, "tcp") == 0) op = op_tcp, batch = 1, helper = start_listener();
  else if (strcmp(mode, "sched") == 0) op = op_sched, batch = 8, helper = start_echo();
  else {
    fprintf(stderr, "tool-load: unknown mode '%s'\n", mode);
    return 2;
  }
  if ((op == op_open || op == op_stat || op == op_exec) && !arg_path) {
    fprintf(stderr, "tool-load: %s needs a path as ARG\n", mode);
    return 2;
  }
  uint64_t ops = 0;
  double t0 = now(), t = t0;
  while (t - t0 < seconds) {
    for (int i = 0; i < batch; i++) op();
    ops += (uint64_t)batch;
    t = now();
  }
  if (helper > 0) {
    kill(helper, SIGKILL);
    waitpid(helper, NULL, 0);
  }
  printf("%llu %.6f\n", (unsigned long long)ops, t - t0);
  return 0;
}
