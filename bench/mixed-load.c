/*
 * A mixed GET/SET load for a Redis-protocol server, which redis-benchmark cannot make (each of
 * its tests sends one command): `conns` clients, each sending pipelines of `pipeline` requests,
 * each request a SET (with `setPercent` % chance) or a GET of a random key of `keys` keys
 * (redis-benchmark's names, key:000000012345, so its -r load fills them), waiting for the whole
 * pipeline's replies before sending the next. One thread, epoll, no allocation per request: the
 * load costs the machine little beside the server. Prints the replies a second over `seconds`
 * after one second of warm-up. bench/ANALYSIS.md, "Writes from a network thread's client".
 * With `lonePipelines`, each client first sends that many requests one at a time, waiting for
 * each reply, before it pipelines; the warm-up then lasts until every client pipelines: a
 * long-lived client whose habits change (bench/ANALYSIS.md, "A client handed back goes to a
 * thread again").
 *
 *   cc -O2 -o /tmp/mixed-load bench/mixed-load.c
 *   /tmp/mixed-load <port> <conns> <pipeline> <setPercent> <seconds> <keys> <valueBytes> [lonePipelines]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  int owed;        /* replies still due for the pipeline sent */
  int state;       /* 0: a reply starts; 1: skipping a line; 2: a bulk length; 3: bulk bytes */
  long num;        /* the bulk length read so far */
  int negative;
  long need;       /* bulk bytes (and CRLF) still to skip */
  int lone;        /* requests sent one at a time so far (up to lonePipelines) */
  char *out;       /* the pipeline being written */
  size_t outLen, outAt;
} Client;

static int pipelineLength, setPercent, keys, valueBytes, lonePipelines, lonesDone;
static char *value;
static unsigned long long counted;
static int measuring, stopping;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void fill(Client *c) {
  size_t at = 0;
  int length = pipelineLength;
  if (c->lone < lonePipelines) {
    if (++c->lone == lonePipelines) lonesDone++;
    length = 1;
  }
  for (int i = 0; i < length; i++) {
    char key[32];
    int keyLen = snprintf(key, sizeof key, "key:%012d", rand() % keys);
    if (rand() % 100 < setPercent) {
      at += sprintf(c->out + at, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", keyLen, key, valueBytes);
      memcpy(c->out + at, value, valueBytes);
      at += valueBytes;
      memcpy(c->out + at, "\r\n", 2);
      at += 2;
    } else {
      at += sprintf(c->out + at, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", keyLen, key);
    }
  }
  c->outLen = at;
  c->outAt = 0;
  c->owed = length;
}

static int flush(Client *c) {
  while (c->outAt < c->outLen) {
    ssize_t n = write(c->fd, c->out + c->outAt, c->outLen - c->outAt);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->outAt += (size_t)n;
  }
  return 0;
}

static void replied(Client *c) {
  c->state = 0;
  c->owed--;
  if (measuring) counted++;
  if (c->owed == 0 && !stopping) {
    fill(c);
    flush(c);
  }
}

static void consume(Client *c, const unsigned char *b, ssize_t n) {
  for (ssize_t i = 0; i < n;) {
    if (c->state == 0) {
      unsigned char ch = b[i++];
      if (ch == '$') {
        c->state = 2;
        c->num = 0;
        c->negative = 0;
      } else {
        c->state = 1;
      }
    } else if (c->state == 1) {
      const unsigned char *nl = memchr(b + i, '\n', (size_t)(n - i));
      if (!nl) return;
      i = nl - b + 1;
      replied(c);
    } else if (c->state == 2) {
      unsigned char ch = b[i++];
      if (ch == '-') c->negative = 1;
      else if (ch >= '0' && ch <= '9') c->num = c->num * 10 + (ch - '0');
      else if (ch == '\n') {
        if (c->negative) replied(c);
        else {
          c->state = 3;
          c->need = c->num + 2;
        }
      }
    } else {
      long take = n - i < c->need ? n - i : c->need;
      i += take;
      c->need -= take;
      if (c->need == 0) replied(c);
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 8 && argc != 9) {
    fprintf(stderr, "usage: %s port conns pipeline setPercent seconds keys valueBytes [lonePipelines]\n",
            argv[0]);
    return 2;
  }
  int port = atoi(argv[1]), conns = atoi(argv[2]);
  pipelineLength = atoi(argv[3]);
  setPercent = atoi(argv[4]);
  double seconds = atof(argv[5]);
  keys = atoi(argv[6]);
  valueBytes = atoi(argv[7]);
  lonePipelines = argc == 9 ? atoi(argv[8]) : 0;
  value = malloc(valueBytes);
  memset(value, 'x', valueBytes);
  srand(12345);
  int ep = epoll_create1(0);
  Client *clients = calloc(conns, sizeof(Client));
  for (int i = 0; i < conns; i++) {
    Client *c = &clients[i];
    c->out = malloc((size_t)pipelineLength * (valueBytes + 96));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
      perror("connect");
      return 1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
    fill(c);
    flush(c);
  }
  double started = now(), measuredFrom = 0;
  unsigned char buf[65536];
  struct epoll_event events[64];
  for (;;) {
    double t = now();
    if (!measuring && t - started >= 1 && (lonePipelines == 0 || lonesDone >= conns)) {
      measuring = 1;
      measuredFrom = t;
    }
    if (measuring && t - measuredFrom >= seconds) break;
    int ready = epoll_wait(ep, events, 64, 100);
    for (int k = 0; k < ready; k++) {
      Client *c = events[k].data.ptr;
      ssize_t n = read(c->fd, buf, sizeof buf);
      if (n <= 0) {
        fprintf(stderr, "connection lost\n");
        return 1;
      }
      consume(c, buf, n);
    }
  }
  double elapsed = now() - measuredFrom;
  stopping = 1;
  printf("rate=%.0f\n", counted / elapsed);
  return 0;
}
