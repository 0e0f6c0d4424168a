/*
 * dockyard-tty: the learner's terminals, kept inside the sandbox so that they outlive the server
 * process showing them.
 *
 *   dockyard-tty attach NAME COMMAND [ARG...]   show terminal NAME, starting COMMAND on it if it is not running
 *   dockyard-tty watch NAME                     show terminal NAME read-only
 *   dockyard-tty list                           the names of the running terminals, one per line
 *
 * A terminal is a pseudo-terminal held by a small keeper process (one per terminal) that listens on
 * /run/dockyard-tty/NAME.sock and keeps the last SCROLLBACK bytes of output. `attach` and `watch`
 * are plain relays between that socket and their stdin/stdout, which the server reaches through a
 * `docker exec` WITHOUT a TTY: with a TTY exec, Docker itself reads the keystrokes and treats
 * Ctrl-P Ctrl-Q as its detach keys; over plain pipes every byte reaches the learner's programs.
 * When the server process goes away its exec ends, the keeper keeps the shell and its programs
 * running, and the next `attach` (from any server) finds them with their scrollback.
 *
 * Every message is a frame: a type byte, a payload length (u16, big-endian), the payload.
 * To the keeper (an attach's stdin):
 *   'i' keystrokes     'r' <cols:u16> <rows:u16> window size     'h' hang the terminal up (the tab closed)
 * From the keeper (stdout):
 *   'p' scrollback, replayed on attaching (old output: a page must not answer queries in it)
 *   'o' output         's' <cols:u16> <rows:u16> the window size (on attaching, and to watchers on each change)
 *   'k' (first, to an attach) the terminal was running before: this attach shows it again
 *   'd' another attach took the terminal over     'x' <status:u8> the command ended (its status, or 128+signal)
 * One attach holds a terminal at a time; a newer one takes it over. Watchers never slow the
 * terminal down: one that cannot keep up is dropped. An attach's stdin closing only lets go of the
 * terminal. A terminal nobody has attached for DOCKYARD_TTY_IDLE seconds (default 600) is hung up.
 * DOCKYARD_TTY_SIZE=<cols>x<rows> sets the window size an attach asks for (default 80x24).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define DIR_PATH "/run/dockyard-tty"
#define FRAME_MAX 65535
#define PENDING_MAX (1 << 20)
#define SCROLLBACK (64 * 1024)
/* Output queued for one reader; past it the terminal waits for the attach, or drops a watcher. */
#define QUEUE_MAX (256 * 1024)
#define WATCHERS_MAX 8

static void fail(const char *what) {
  fprintf(stderr, "dockyard-tty: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int write_all(int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {fd, POLLOUT, 0};
        poll(&p, 1, -1);
        continue;
      }
      return -1;
    }
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

static int valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 32) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return 0;
  }
  return 1;
}

static struct sockaddr_un socket_address(const char *name) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, DIR_PATH "/%s.sock", name);
  return a;
}

/* A connection to terminal `name`'s keeper, or -1 when none is running. */
static int connect_to(const char *name) {
  struct sockaddr_un a = socket_address(name);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
  close(fd);
  return -1;
}

/* ---- the relay: attach and watch ---------------------------------------------------------- */

/* Copies stdin to the keeper and the keeper to stdout until the keeper closes the connection. */
static int relay(int sock, char hello, const char *size) {
  char first[8] = {hello};
  size_t first_len = 1;
  unsigned short cols, rows;
  if (hello == 'A' && size && sscanf(size, "%hux%hu", &cols, &rows) == 2 && cols && rows) {
    unsigned char r[7] = {'r', 0, 4, cols >> 8, cols & 0xff, rows >> 8, rows & 0xff};
    memcpy(first + 1, r, sizeof r);
    first_len += sizeof r;
  }
  if (write_all(sock, first, first_len) < 0) fail("write to the terminal");
  int stdin_open = 1;
  char buf[16384];
  for (;;) {
    struct pollfd fds[2] = {{sock, POLLIN, 0}, {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll");
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(sock, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return 0; /* the keeper ended (its last frame said why) or let us go */
      if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0) return 0; /* nobody is listening any more */
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        /* The server let go: so do we. The terminal keeps running for the next attach. */
        if (hello != 'A') return 0;
        shutdown(sock, SHUT_WR);
        stdin_open = 0;
      } else if (hello == 'A' && write_all(sock, buf, (size_t)n) < 0) { /* a watcher's keys go nowhere */
        return 0;
      }
    }
  }
}

/* ---- the keeper --------------------------------------------------------------------------- */

struct reader {
  int fd;
  char *queue;
  size_t len;
};

static int sigchld_pipe[2];
static int master = -1;
static pid_t child;
static struct winsize ws = {.ws_row = 24, .ws_col = 80};
static struct reader attached = {-1, NULL, 0};
static struct reader watchers[WATCHERS_MAX];
static char ring[SCROLLBACK];
static size_t ring_start, ring_len;
/* Keystroke frames being read from the attach; a partial one is forgotten when it lets go. */
static unsigned char frame[3 + FRAME_MAX];
static size_t have;
/* Held while an attach decides whether to start the terminal; the keeper must not inherit it. */
static int lock_fd = -1;

static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  (void)!write(sigchld_pipe[1], "c", 1);
  errno = saved;
}

static void drop(struct reader *r) {
  if (r->fd >= 0) close(r->fd);
  free(r->queue);
  *r = (struct reader){-1, NULL, 0};
}

/* Queues a frame for `r`; 0 when it does not fit (the reader is not keeping up). */
static int queue_frame(struct reader *r, char type, const void *data, size_t len) {
  if (r->fd < 0) return 1;
  if (r->len + 3 + len > QUEUE_MAX) return 0;
  if (!r->queue && !(r->queue = malloc(QUEUE_MAX))) return 0;
  r->queue[r->len] = type;
  r->queue[r->len + 1] = (char)(len >> 8);
  r->queue[r->len + 2] = (char)(len & 0xff);
  memcpy(r->queue + r->len + 3, data, len);
  r->len += 3 + len;
  return 1;
}

/* Writes what `r` has queued, as far as it goes without waiting; drops a reader that has gone. */
static void flush(struct reader *r) {
  while (r->fd >= 0 && r->len) {
    ssize_t w = write(r->fd, r->queue, r->len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w <= 0) return drop(r);
    memmove(r->queue, r->queue + w, r->len - (size_t)w);
    r->len -= (size_t)w;
  }
}

static void to_watchers(char type, const void *data, size_t len) {
  for (int i = 0; i < WATCHERS_MAX; i++)
    if (!queue_frame(&watchers[i], type, data, len)) drop(&watchers[i]);
}

static void size_frame(unsigned char out[4]) {
  out[0] = ws.ws_col >> 8, out[1] = ws.ws_col & 0xff, out[2] = ws.ws_row >> 8, out[3] = ws.ws_row & 0xff;
}

/* What a new reader is sent first: the window size, then the scrollback. */
static void greet(struct reader *r) {
  unsigned char size[4];
  size_frame(size);
  queue_frame(r, 's', size, 4);
  size_t skip = 0; /* start at a whole character, not in the middle of a UTF-8 sequence */
  while (skip < ring_len && skip < 4 && (ring[(ring_start + skip) % SCROLLBACK] & 0xc0) == 0x80) skip++;
  for (size_t at = skip; at < ring_len;) {
    size_t from = (ring_start + at) % SCROLLBACK;
    size_t n = ring_len - at;
    if (n > SCROLLBACK - from) n = SCROLLBACK - from;
    queue_frame(r, 'p', ring + from, n);
    at += n;
  }
}

static void remember(const char *data, size_t n) {
  for (size_t i = 0; i < n; i++) {
    ring[(ring_start + ring_len) % SCROLLBACK] = data[i];
    if (ring_len < SCROLLBACK) ring_len++;
    else ring_start = (ring_start + 1) % SCROLLBACK;
  }
}

static void nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* A new connection: its first byte says what it wants. */
static void welcome(int listener) {
  int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) return;
  struct pollfd p = {fd, POLLIN, 0};
  char hello = 0;
  /* A client says what it wants at once (`list` says 'L': it only looks); one that does not is dropped. */
  if (poll(&p, 1, 1000) <= 0 || read(fd, &hello, 1) != 1) hello = 0;
  nonblocking(fd);
  if (hello == 'A') {
    if (attached.fd >= 0) {
      /* Another server (or a reload on it) takes the terminal over: tell the old one why it lost it. */
      queue_frame(&attached, 'd', "", 0);
      flush(&attached);
      drop(&attached);
      have = 0;
    }
    attached.fd = fd;
    static int attaches;
    if (attaches++ > 0) queue_frame(&attached, 'k', "", 0);
    greet(&attached);
    flush(&attached);
    return;
  }
  if (hello == 'W') {
    for (int i = 0; i < WATCHERS_MAX; i++) {
      if (watchers[i].fd >= 0) continue;
      watchers[i].fd = fd;
      greet(&watchers[i]);
      flush(&watchers[i]);
      return;
    }
  }
  close(fd);
}

static int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

static void hang_up(void) {
  kill(-child, SIGHUP);
  kill(child, SIGHUP);
}

/* Runs the terminal until its command ends; never returns. */
static void keep(int listener, const char *path) {
  if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) _exit(1);
  struct sigaction sa = {0};
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  for (int i = 0; i < WATCHERS_MAX; i++) watchers[i] = (struct reader){-1, NULL, 0};
  const char *idle_env = getenv("DOCKYARD_TTY_IDLE");
  long idle_s = idle_env ? atol(idle_env) : 600;
  if (idle_s <= 0) idle_s = 600;
  unsetenv("DOCKYARD_TTY_IDLE");
  nonblocking(master);

  static char pending[PENDING_MAX];
  size_t pending_len = 0;
  char out[16384];
  int status = 0, exited = 0;
  /* Output read while nobody was attached: past a scrollback's worth, the terminal waits. */
  size_t unseen = 0;
  struct timespec now, alone_since;
  clock_gettime(CLOCK_MONOTONIC, &alone_since);

  while (!exited) {
    int reading = attached.fd >= 0 ? attached.len < QUEUE_MAX / 4 : unseen < SCROLLBACK;
    struct pollfd fds[4 + WATCHERS_MAX] = {
        {listener, POLLIN, 0},
        {master, (reading ? POLLIN : 0) | (pending_len ? POLLOUT : 0), 0},
        {sigchld_pipe[0], POLLIN, 0},
        /* Stop reading keystrokes while the terminal cannot take more: back-pressure to the server. */
        {attached.fd, (pending_len < PENDING_MAX / 2 ? POLLIN : 0) | (attached.len ? POLLOUT : 0), 0},
    };
    for (int i = 0; i < WATCHERS_MAX; i++)
      fds[4 + i] = (struct pollfd){watchers[i].fd, POLLIN | (watchers[i].len ? POLLOUT : 0), 0};
    int timeout = -1;
    if (attached.fd < 0) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      long left = idle_s * 1000 - ((now.tv_sec - alone_since.tv_sec) * 1000 + (now.tv_nsec - alone_since.tv_nsec) / 1000000);
      if (left <= 0) {
        hang_up();
        left = 1000; /* then wait for the command to end */
        alone_since = now;
      }
      timeout = (int)left;
    }
    if (poll(fds, 4 + WATCHERS_MAX, timeout) < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    if (fds[0].revents & POLLIN) welcome(listener);
    if (fds[2].revents & POLLIN) {
      char c;
      while (read(sigchld_pipe[0], &c, 1) > 0) {
      }
      if (waitpid(child, &status, WNOHANG) == child) exited = 1;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, out, sizeof out);
      if (n > 0) {
        remember(out, (size_t)n);
        if (attached.fd >= 0) queue_frame(&attached, 'o', out, (size_t)n);
        else unseen += (size_t)n;
        to_watchers('o', out, (size_t)n);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        /* Every holder of the terminal closed it: the command is ending. */
        waitpid(child, &status, 0);
        exited = 1;
      }
    }
    if (pending_len && (fds[1].revents & POLLOUT)) {
      ssize_t w = write(master, pending, pending_len);
      if (w > 0) {
        memmove(pending, pending + w, pending_len - (size_t)w);
        pending_len -= (size_t)w;
      }
    }
    if (attached.fd >= 0 && fds[3].fd == attached.fd && (fds[3].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(attached.fd, frame + have, sizeof frame - have);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        /* The attach let go (its server went away, or a page stopped showing the terminal). */
        drop(&attached);
        have = 0;
        unseen = 0;
        clock_gettime(CLOCK_MONOTONIC, &alone_since);
      } else if (n > 0) {
        have += (size_t)n;
      }
      size_t at = 0;
      while (have - at >= 3) {
        size_t len = ((size_t)frame[at + 1] << 8) | frame[at + 2];
        if (have - at < 3 + len) break;
        const unsigned char *p = frame + at + 3;
        if (frame[at] == 'i') {
          size_t room = PENDING_MAX - pending_len;
          size_t take = len < room ? len : room;
          memcpy(pending + pending_len, p, take);
          pending_len += take;
        } else if (frame[at] == 'r' && len == 4) {
          unsigned short cols = (unsigned short)((p[0] << 8) | p[1]), rows = (unsigned short)((p[2] << 8) | p[3]);
          if (cols && rows && (cols != ws.ws_col || rows != ws.ws_row)) {
            ws.ws_col = cols, ws.ws_row = rows;
            ioctl(master, TIOCSWINSZ, &ws); /* the kernel sends SIGWINCH to the foreground group */
            unsigned char size[4];
            size_frame(size);
            to_watchers('s', size, 4);
          }
        } else if (frame[at] == 'h') {
          hang_up();
        }
        at += 3 + len;
      }
      memmove(frame, frame + at, have - at);
      have -= at;
    }
    flush(&attached);
    for (int i = 0; i < WATCHERS_MAX; i++) {
      if (watchers[i].fd < 0) continue;
      if (fds[4 + i].fd == watchers[i].fd && (fds[4 + i].revents & (POLLIN | POLLHUP | POLLERR))) {
        char c;
        ssize_t n = read(watchers[i].fd, &c, 1);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) { /* the watcher stopped */
          drop(&watchers[i]);
          continue;
        }
      }
      flush(&watchers[i]);
    }
  }
  /* The command ended: no new connections; pass on what it printed last, then its status. */
  unlink(path);
  close(listener);
  for (;;) {
    ssize_t n = read(master, out, sizeof out);
    if (n <= 0) break;
    if (attached.fd >= 0) queue_frame(&attached, 'o', out, (size_t)n);
    to_watchers('o', out, (size_t)n);
  }
  unsigned char code = (unsigned char)exit_status(status);
  queue_frame(&attached, 'x', &code, 1);
  to_watchers('x', &code, 1);
  struct reader *all[1 + WATCHERS_MAX] = {&attached};
  for (int i = 0; i < WATCHERS_MAX; i++) all[1 + i] = &watchers[i];
  for (int i = 0; i < 1 + WATCHERS_MAX; i++) {
    if (all[i]->fd < 0) continue;
    fcntl(all[i]->fd, F_SETFL, fcntl(all[i]->fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval two_s = {2, 0}; /* a reader that has stopped reading is not waited for long */
    setsockopt(all[i]->fd, SOL_SOCKET, SO_SNDTIMEO, &two_s, sizeof two_s);
    if (all[i]->len) (void)!write_all(all[i]->fd, all[i]->queue, all[i]->len);
    drop(all[i]);
  }
  _exit(0);
}

/* Starts terminal `name` running argv under a keeper of its own; -1 with errno when it cannot. */
static int start(const char *name, char **argv) {
  struct sockaddr_un a = socket_address(name);
  unlink(a.sun_path); /* a keeper that was killed leaves its socket behind */
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) fail("socket");
  if (bind(listener, (struct sockaddr *)&a, sizeof a) < 0 || listen(listener, 16) < 0) fail("listen");
  const char *size = getenv("DOCKYARD_TTY_SIZE");
  unsigned short cols, rows;
  if (size && sscanf(size, "%hux%hu", &cols, &rows) == 2 && cols && rows) ws.ws_col = cols, ws.ws_row = rows;
  /* The keeper reports whether the terminal started through this pipe: 0, or an errno. */
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) fail("pipe");
  pid_t keeper = fork();
  if (keeper < 0) {
    int e = errno;
    unlink(a.sun_path);
    errno = e;
    return -1;
  }
  if (keeper == 0) {
    close(report[0]);
    close(lock_fd);
    setsid();
    int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO), dup2(null, STDOUT_FILENO), dup2(null, STDERR_FILENO);
    if (null > 2) close(null);
    signal(SIGPIPE, SIG_IGN);
    unsetenv("DOCKYARD_TTY_SIZE");
    child = forkpty(&master, NULL, NULL, &ws);
    if (child < 0) {
      int e = errno;
      (void)!write(report[1], &e, sizeof e);
      unlink(a.sun_path);
      _exit(1);
    }
    if (child == 0) {
      signal(SIGPIPE, SIG_DFL);
      execvp(argv[0], argv);
      fprintf(stderr, "dockyard-tty: cannot run %s: %s\n", argv[0], strerror(errno));
      _exit(127);
    }
    int ok = 0;
    (void)!write(report[1], &ok, sizeof ok);
    close(report[1]);
    keep(listener, a.sun_path);
  }
  close(listener);
  close(report[1]);
  int e = 0;
  if (read(report[0], &e, sizeof e) != sizeof e) e = EIO;
  close(report[0]);
  waitpid(keeper, NULL, WNOHANG);
  errno = e;
  return e ? -1 : 0;
}

static int attach(const char *name, char **argv) {
  if (mkdir(DIR_PATH, 0700) < 0 && errno != EEXIST) fail("mkdir " DIR_PATH);
  /* One attach at a time decides whether to start the terminal: two servers racing start one. */
  char lock_path[128];
  snprintf(lock_path, sizeof lock_path, DIR_PATH "/%s.lock", name);
  lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) fail("lock");
  int sock = connect_to(name);
  if (sock < 0) {
    if (start(name, argv) < 0) {
      if (errno == EAGAIN)
        /* The learner reads this in a new terminal tab: say what is full and what to do. */
        fprintf(stderr,
                "\r\nThis sandbox is running as many processes as it may, so a new terminal cannot start.\r\n"
                "In a terminal that is still open, stop what you started: docker ps, then docker stop <name>.\r\n"
                "Or use Reset to start over with a fresh sandbox.\r\n");
      else
        fprintf(stderr, "dockyard-tty: cannot open a terminal: %s\n", strerror(errno));
      return 1;
    }
    sock = connect_to(name);
    if (sock < 0) fail("connect");
  }
  close(lock_fd);
  return relay(sock, 'A', getenv("DOCKYARD_TTY_SIZE"));
}

static int list(void) {
  DIR *d = opendir(DIR_PATH);
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".sock") != 0) continue;
    char name[64];
    if (n - 5 >= sizeof name) continue;
    memcpy(name, e->d_name, n - 5);
    name[n - 5] = 0;
    int fd = valid_name(name) ? connect_to(name) : -1;
    if (fd < 0) continue; /* left behind by a keeper that was killed */
    /* Say at once that this only looks: the keeper waits for a first byte, and its terminal with it. */
    (void)!write(fd, "L", 1);
    close(fd);
    printf("%s\n", name);
  }
  closedir(d);
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc == 2 && strcmp(argv[1], "list") == 0) return list();
  if (argc >= 3 && valid_name(argv[2])) {
    if (argc == 3 && strcmp(argv[1], "watch") == 0) {
      int sock = connect_to(argv[2]);
      if (sock < 0) {
        fprintf(stderr, "dockyard-tty: no terminal %s is running\n", argv[2]);
        return 1;
      }
      return relay(sock, 'W', NULL);
    }
    if (argc >= 4 && strcmp(argv[1], "attach") == 0) return attach(argv[2], argv + 3);
  }
  fprintf(stderr,
          "usage: dockyard-tty attach NAME COMMAND [ARG...] | watch NAME | list\n"
          "  (NAME: 1-32 letters, digits, - or _; frames on stdin and stdout, see the source)\n");
  return 2;
}
