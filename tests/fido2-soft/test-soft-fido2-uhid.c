/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Runs the imprint-soft-fido2 program with a socket standing in for
 * /dev/uhid (the host kernel has no uhid): this test plays the kernel's
 * part, turning libfido2's HID reports into UHID_OUTPUT events and the
 * program's UHID_INPUT2 events back into reports, and touches the key with
 * SIGUSR1 when it asks for presence. The real /dev/uhid path is exercised
 * in the VM tests only. */

#include "config.h"

#include <errno.h>
#include <fido.h>
#include <glib.h>
#include <linux/uhid.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imprint-fido2.h"
#include "secret.h"

typedef struct {
  int fd;
  GPid pid;
  unsigned touches;
} Peer;

static Peer peer = { .fd = -1, .pid = -1 };

static bool
read_event (int fd, struct uhid_event *ev, int timeout_ms)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };

  if (poll (&p, 1, timeout_ms) <= 0)
    return false;
  return read (fd, ev, sizeof (*ev)) > 0;
}

static void *
io_open (const char *path)
{
  return &peer;
}

static void
io_close (void *handle)
{
}

static int
io_read (void *handle, unsigned char *buf, size_t len, int ms)
{
  Peer *p = handle;
  struct uhid_event ev;

  for (;;)
    {
      if (!read_event (p->fd, &ev, 10000))
        return -1;
      if (ev.type != UHID_INPUT2)
        continue;
      if (ev.u.input2.size != 64 || len != 64)
        return -1;
      /* KEEPALIVE with status "user presence needed": touch the key */
      if (ev.u.input2.data[4] == (0x80 | 0x3b) && ev.u.input2.data[7] == 2)
        {
          if (p->touches++ == 0)
            g_assert_cmpint (kill (p->pid, SIGUSR1), ==, 0);
        }
      memcpy (buf, ev.u.input2.data, 64);
      return 64;
    }
}

static int
io_write (void *handle, const unsigned char *buf, size_t len)
{
  Peer *p = handle;
  struct uhid_event ev;

  memset (&ev, 0, sizeof (ev));
  ev.type = UHID_OUTPUT;
  ev.u.output.size = (uint16_t) len;          /* with hidraw's report ID byte */
  ev.u.output.rtype = UHID_OUTPUT_REPORT;
  memcpy (ev.u.output.data, buf, len);
  if (write (p->fd, &ev, sizeof (ev)) != sizeof (ev))
    return -1;
  return (int) len;
}

static const fido_dev_io_t io = { io_open, io_close, io_read, io_write };

static int
prompt (ImprintFido2Prompt kind, const char *message, char **ret_answer, void *userdata)
{
  if (kind == IMPRINT_FIDO2_PROMPT_PIN)
    *ret_answer = imprint_secret_strdup ("123456");
  /* a new operation: the next keepalive may ask for a touch again */
  peer.touches = 0;
  return 0;
}

static void
spawn (const char *program)
{
  int sv[2];
  g_autofree char *fd_arg = NULL;
  pid_t pid;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      /* child: the socket becomes fd 3, without CLOEXEC */
      if (dup2 (sv[1], 3) < 0)
        _exit (127);
      /* Its "READY" line is not TAP: keep it out of our standard output. */
      if (dup2 (STDERR_FILENO, STDOUT_FILENO) < 0)
        _exit (127);
      execl (program, program, "--uhid-fd=3", "--touch=signal", "--pin=123456", (char *) NULL);
      _exit (127);
    }
  close (sv[1]);
  peer.fd = sv[0];
  peer.pid = pid;
}

static void
stop (void)
{
  int status = 0;

  if (peer.pid > 0)
    {
      kill (peer.pid, SIGTERM);
      g_assert_cmpint (waitpid (peer.pid, &status, 0), ==, peer.pid);
      peer.pid = -1;
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }
}

static void
test_uhid (void)
{
  const char *program = g_getenv ("IMPRINT_SOFT_FIDO2");
  g_autoptr (ImprintFido2Enrollment) e = NULL;
  _cleanup_secret_ uint8_t *secret = NULL;
  struct uhid_event ev;
  fido_dev_t *dev;
  size_t size = 0;

  if (program == NULL)
    {
      g_test_skip ("IMPRINT_SOFT_FIDO2 is not set (run through meson test)");
      return;
    }
  spawn (program);

  /* the device announces itself with the FIDO usage page */
  g_assert_true (read_event (peer.fd, &ev, 10000));
  g_assert_cmpint (ev.type, ==, UHID_CREATE2);
  g_assert_cmpuint (ev.u.create2.rd_size, >, 3);
  g_assert_cmpuint (ev.u.create2.rd_data[0], ==, 0x06);
  g_assert_cmpuint (ev.u.create2.rd_data[1], ==, 0xd0);
  g_assert_cmpuint (ev.u.create2.rd_data[2], ==, 0xf1);

  /* feature report requests are refused, not left hanging */
  memset (&ev, 0, sizeof (ev));
  ev.type = UHID_GET_REPORT;
  ev.u.get_report.id = 42;
  g_assert_cmpint (write (peer.fd, &ev, sizeof (ev)), ==, sizeof (ev));
  g_assert_true (read_event (peer.fd, &ev, 10000));
  g_assert_cmpint (ev.type, ==, UHID_GET_REPORT_REPLY);
  g_assert_cmpuint (ev.u.get_report_reply.id, ==, 42);
  g_assert_cmpuint (ev.u.get_report_reply.err, !=, 0);

  dev = fido_dev_new ();
  g_assert_cmpint (fido_dev_set_io_functions (dev, &io), ==, FIDO_OK);
  g_assert_cmpint (fido_dev_open (dev, "uhid"), ==, FIDO_OK);
  g_assert_true (fido_dev_is_fido2 (dev));
  g_assert_true (fido_dev_has_pin (dev));

  /* PIN + touch enrollment through the HID path; touches are answered
   * from the KEEPALIVE frames */
  g_assert_cmpint (imprint_fido2_enroll_luks (dev, NULL, "11111111-2222-3333-4444-555555555555", NULL,
                                              IMPRINT_FIDO2_LOCK_DEFAULT, prompt, NULL, &e), ==, 0);
  g_assert_cmpint (e->lock_with, ==, IMPRINT_FIDO2_LOCK_DEFAULT);
  g_assert_cmpint (imprint_fido2_unlock (dev, NULL, e->rp_id, e->credential_id, e->credential_id_size,
                                         e->salt, sizeof (e->salt), e->lock_with, prompt, NULL,
                                         &secret, &size), ==, 0);
  g_assert_cmpmem (secret, size, e->secret, e->secret_size);

  fido_dev_close (dev);
  fido_dev_free (&dev);

  stop ();
  g_assert_true (read_event (peer.fd, &ev, 10000));
  g_assert_cmpint (ev.type, ==, UHID_DESTROY);
  close (peer.fd);
  peer.fd = -1;
}

int
main (int argc, char *argv[])
{
  int r;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/soft-fido2/uhid-program", test_uhid);
  r = g_test_run ();
  if (peer.pid > 0)
    kill (peer.pid, SIGKILL);
  return r;
}
