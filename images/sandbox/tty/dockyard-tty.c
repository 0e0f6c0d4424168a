/*
 * dockyard-tty: runs a command on a new pseudo-terminal and relays it over plain pipes.
 *
 * The server attaches a learner's terminal with a `docker exec` WITHOUT a TTY and this program
 * makes the TTY inside the sandbox. With a TTY exec, Docker itself reads the keystrokes and
 * treats Ctrl-P Ctrl-Q as its detach keys (ending the shell); over plain pipes it passes every
 * byte through, so the learner's keys reach the learner's programs (`docker attach` included).
 *
 * stdin carries frames from the server, so a window size can never be forged by typing:
 *   'i' <len:u16 big-endian> <len bytes>   keystrokes for the terminal
 *   'r' <len = 4> <cols:u16> <rows:u16>     window size (the shell gets SIGWINCH)
 * stdout is the terminal's raw output. The exit status is the command's own, or 128+signal.
 * DOCKYARD_TTY_SIZE=<cols>x<rows> sets the first window size (default 80x24).
 * stdin closing hangs the terminal up, as closing a terminal window does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define FRAME_MAX 65535
#define PENDING_MAX (1 << 20)

static int sigchld_pipe[2];

static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  (void)!write(sigchld_pipe[1], "c", 1);
  errno = saved;
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

static int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: dockyard-tty COMMAND [ARG...]  (frames on stdin, see the source)\n");
    return 2;
  }
  if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) return perror("pipe"), 1;
  struct sigaction sa = {0};
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  struct winsize ws = {.ws_row = 24, .ws_col = 80};
  const char *size = getenv("DOCKYARD_TTY_SIZE");
  unsigned short cols, rows;
  if (size && sscanf(size, "%hux%hu", &cols, &rows) == 2 && cols && rows) ws.ws_col = cols, ws.ws_row = rows;
  unsetenv("DOCKYARD_TTY_SIZE");
  int master;
  pid_t child = forkpty(&master, NULL, NULL, &ws);
  if (child < 0) {
    if (errno == EAGAIN)
      /* The learner reads this in a new terminal tab: say what is full and what to do. */
      fprintf(stderr,
              "\r\nThis sandbox is running as many processes as it may, so a new terminal cannot start.\r\n"
              "In a terminal that is still open, stop what you started: docker ps, then docker stop <name>.\r\n"
              "Or use Reset to start over with a fresh sandbox.\r\n");
    else
      perror("dockyard-tty: cannot open a terminal");
    return 1;
  }
  if (child == 0) {
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[1], argv + 1);
    fprintf(stderr, "dockyard-tty: cannot run %s: %s\n", argv[1], strerror(errno));
    _exit(127);
  }
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);

  /* Frames being read from stdin, and keystrokes waiting for room in the terminal's input queue. */
  static unsigned char frame[3 + FRAME_MAX];
  size_t have = 0;
  static char pending[PENDING_MAX];
  size_t pending_len = 0;
  char out[16384];
  int stdin_open = 1, status = 0, exited = 0;

  while (!exited) {
    struct pollfd fds[3] = {
        /* Stop reading keystrokes while the terminal cannot take more: back-pressure to the server. */
        {stdin_open && pending_len < PENDING_MAX / 2 ? STDIN_FILENO : -1, POLLIN, 0},
        {master, POLLIN | (pending_len ? POLLOUT : 0), 0},
        {sigchld_pipe[0], POLLIN, 0},
    };
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return perror("poll"), 1;
    }
    if (fds[2].revents & POLLIN) {
      char c;
      while (read(sigchld_pipe[0], &c, 1) > 0) {
      }
      if (waitpid(child, &status, WNOHANG) == child) exited = 1;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, out, sizeof out);
      if (n > 0) {
        if (write_all(STDOUT_FILENO, out, (size_t)n) < 0) break; /* nobody is listening any more */
      } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
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
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, frame + have, sizeof frame - have);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        /* The server let go of the terminal: hang it up, as closing a window does. */
        stdin_open = 0;
        close(master);
        kill(-child, SIGHUP);
        kill(child, SIGHUP);
        waitpid(child, &status, 0);
        return exit_status(status);
      }
      if (n > 0) have += (size_t)n;
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
          ws.ws_col = (unsigned short)((p[0] << 8) | p[1]);
          ws.ws_row = (unsigned short)((p[2] << 8) | p[3]);
          ioctl(master, TIOCSWINSZ, &ws); /* the kernel sends SIGWINCH to the foreground group */
        } else {
          fprintf(stderr, "dockyard-tty: unknown frame type %d\n", frame[at]);
          return 2;
        }
        at += 3 + len;
      }
      memmove(frame, frame + at, have - at);
      have -= at;
    }
  }
  /* The command ended: pass on what it printed last, then its status. */
  for (;;) {
    ssize_t n = read(master, out, sizeof out);
    if (n <= 0 || write_all(STDOUT_FILENO, out, (size_t)n) < 0) break;
  }
  return exit_status(status);
}
