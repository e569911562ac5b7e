/* Runs inside build containers (statically linked, so any root filesystem
 * will do): asks the ssh agent at $SSH_AUTH_SOCK for its identities, as
 * `ssh-add -l` would, and prints their count and comments, one per line.
 * Exit codes: 0 listed, 2 no SSH_AUTH_SOCK, 3 cannot connect, 4 the agent's
 * answer is not an identities answer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int read_full(int fd, unsigned char* buf, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, buf, n);
    if (r <= 0) return -1;
    buf += r;
    n -= (size_t)r;
  }
  return 0;
}

static uint32_t be32(const unsigned char* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int main(void) {
  const char* path = getenv("SSH_AUTH_SOCK");
  if (path == NULL || *path == '\0') {
    puts("no SSH_AUTH_SOCK");
    return 2;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0) {
    printf("cannot connect to %s\n", path);
    return 3;
  }
  /* SSH_AGENTC_REQUEST_IDENTITIES (11), framed by a 4-byte length. */
  const unsigned char req[5] = {0, 0, 0, 1, 11};
  if (write(fd, req, sizeof(req)) != (ssize_t)sizeof(req)) return 3;
  unsigned char head[4];
  if (read_full(fd, head, 4) != 0) return 4;
  uint32_t len = be32(head);
  if (len < 5 || len > (1u << 20)) return 4;
  unsigned char* body = malloc(len);
  if (body == NULL || read_full(fd, body, len) != 0 || body[0] != 12) return 4;
  /* SSH_AGENT_IDENTITIES_ANSWER: count, then (key blob, comment) strings. */
  uint32_t count = be32(body + 1), at = 5;
  printf("identities: %u\n", count);
  for (uint32_t i = 0; i < count; ++i) {
    for (int field = 0; field < 2; ++field) {
      if (at + 4 > len) return 4;
      uint32_t n = be32(body + at);
      at += 4;
      if (n > len - at) return 4;
      if (field == 1) printf("%.*s\n", (int)n, (const char*)(body + at));
      at += n;
    }
  }
  return 0;
}
