/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* imprint-soft-fido2: the soft CTAP2 authenticator as a real HID device
 * through /dev/uhid, for the VM tests (test-only, never installed).
 *
 *   imprint-soft-fido2 [--pin=PIN] [--touch=auto|signal] [--protocol=1|2|both] [--ctap20]
 *                      [--uhid-fd=FD]
 *
 * With --touch=signal a user presence test waits (up to 30 s, sending
 * KEEPALIVE frames) for SIGUSR1, which stands for touching the key; a
 * SIGUSR1 that arrives earlier is kept for the next test. SIGTERM/SIGINT
 * remove the device. "READY" is printed once the device exists.
 *
 * --uhid-fd=FD uses an inherited file descriptor that speaks the uhid event
 * protocol (a SOCK_SEQPACKET socket in the host tests) instead of opening
 * /dev/uhid. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/uhid.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "soft-ctaphid.h"
#include "soft-fido2.h"

/* FIDO Alliance usage page 0xF1D0, usage CTAPHID, 64-byte input and output
 * reports without report IDs: what libfido2 and systemd's udev rules
 * (ID_SECURITY_TOKEN via the fido_id builtin) look for. */
static const uint8_t report_descriptor[] = {
  0x06, 0xd0, 0xf1,       /* Usage Page (FIDO Alliance) */
  0x09, 0x01,             /* Usage (CTAPHID) */
  0xa1, 0x01,             /* Collection (Application) */
  0x09, 0x20,             /*   Usage (Data In) */
  0x15, 0x00,             /*   Logical Minimum (0) */
  0x26, 0xff, 0x00,       /*   Logical Maximum (255) */
  0x75, 0x08,             /*   Report Size (8) */
  0x95, 0x40,             /*   Report Count (64) */
  0x81, 0x02,             /*   Input (Data, Variable, Absolute) */
  0x09, 0x21,             /*   Usage (Data Out) */
  0x15, 0x00,             /*   Logical Minimum (0) */
  0x26, 0xff, 0x00,       /*   Logical Maximum (255) */
  0x75, 0x08,             /*   Report Size (8) */
  0x95, 0x40,             /*   Report Count (64) */
  0x91, 0x02,             /*   Output (Data, Variable, Absolute) */
  0xc0,                   /* End Collection */
};

typedef struct {
  int uhid_fd;
  int signal_fd;
  SoftFido2 *sk;
  SoftCtapHid *hid;
  bool quit;
} Context;

static int
uhid_write (int fd, const struct uhid_event *ev)
{
  ssize_t n = write (fd, ev, sizeof (*ev));

  if (n < 0)
    return -errno;
  return n == (ssize_t) sizeof (*ev) ? 0 : -EIO;
}

static void
send_report (const uint8_t report[SOFT_CTAPHID_REPORT_LEN], void *userdata)
{
  Context *c = userdata;
  struct uhid_event ev;

  memset (&ev, 0, sizeof (ev));
  ev.type = UHID_INPUT2;
  ev.u.input2.size = SOFT_CTAPHID_REPORT_LEN;
  memcpy (ev.u.input2.data, report, SOFT_CTAPHID_REPORT_LEN);
  if (uhid_write (c->uhid_fd, &ev) < 0)
    fprintf (stderr, "imprint-soft-fido2: cannot send report: %m\n");
}

static int
create_device (int fd)
{
  struct uhid_event ev;

  memset (&ev, 0, sizeof (ev));
  ev.type = UHID_CREATE2;
  snprintf ((char *) ev.u.create2.name, sizeof (ev.u.create2.name), "Imprint Soft FIDO2");
  snprintf ((char *) ev.u.create2.phys, sizeof (ev.u.create2.phys), "imprint-soft-fido2");
  snprintf ((char *) ev.u.create2.uniq, sizeof (ev.u.create2.uniq), "%ld", (long) getpid ());
  memcpy (ev.u.create2.rd_data, report_descriptor, sizeof (report_descriptor));
  ev.u.create2.rd_size = sizeof (report_descriptor);
  ev.u.create2.bus = BUS_USB;
  ev.u.create2.vendor = 0x1209;   /* pid.codes */
  ev.u.create2.product = 0x0001;  /* pid.codes test PID */
  return uhid_write (fd, &ev);
}

/* Reads one uhid event; reports go to the CTAPHID layer. */
static void
handle_uhid_event (Context *c, bool busy)
{
  struct uhid_event ev, reply;
  const uint8_t *data;
  size_t size;

  if (read (c->uhid_fd, &ev, sizeof (ev)) <= 0)
    {
      c->quit = true;
      return;
    }

  switch (ev.type)
    {
    case UHID_OUTPUT:
      data = ev.u.output.data;
      size = ev.u.output.size;
      /* hidraw passes the report ID (0: none) in front of the report */
      if (size == SOFT_CTAPHID_REPORT_LEN + 1)
        {
          data++;
          size--;
        }
      if (size != SOFT_CTAPHID_REPORT_LEN)
        break;
      if (busy)
        soft_ctaphid_handle_report_while_busy (c->hid, data);
      else
        soft_ctaphid_handle_report (c->hid, data);
      break;
    case UHID_GET_REPORT:
      memset (&reply, 0, sizeof (reply));
      reply.type = UHID_GET_REPORT_REPLY;
      reply.u.get_report_reply.id = ev.u.get_report.id;
      reply.u.get_report_reply.err = EIO;
      (void) uhid_write (c->uhid_fd, &reply);
      break;
    case UHID_SET_REPORT:
      memset (&reply, 0, sizeof (reply));
      reply.type = UHID_SET_REPORT_REPLY;
      reply.u.set_report_reply.id = ev.u.set_report.id;
      reply.u.set_report_reply.err = EIO;
      (void) uhid_write (c->uhid_fd, &reply);
      break;
    default:
      /* START, STOP, OPEN, CLOSE: nothing to do */
      break;
    }
}

/* Returns true on SIGUSR1 (touch). */
static bool
handle_signal (Context *c)
{
  struct signalfd_siginfo si;

  if (read (c->signal_fd, &si, sizeof (si)) != sizeof (si))
    return false;
  if (si.ssi_signo == SIGUSR1)
    return true;
  c->quit = true;
  return false;
}

static bool
wait_touch (SoftFido2 *sk, void *userdata)
{
  Context *c = userdata;

  for (int i = 0; i < 300 && !c->quit && !soft_fido2_is_cancelled (sk); i++)
    {
      struct pollfd p[2] = {
        { .fd = c->uhid_fd, .events = POLLIN },
        { .fd = c->signal_fd, .events = POLLIN },
      };

      soft_ctaphid_send_keepalive (c->hid, 2);
      if (poll (p, 2, 100) < 0 && errno != EINTR)
        return false;
      if (p[1].revents & POLLIN && handle_signal (c))
        return true;
      if (p[0].revents & POLLIN)
        handle_uhid_event (c, true);
    }
  return false;
}

static void
usage (void)
{
  fprintf (stderr, "usage: imprint-soft-fido2 [--pin=PIN] [--touch=auto|signal] [--protocol=1|2|both] [--ctap20] [--uhid-fd=FD]\n");
}

int
main (int argc, char *argv[])
{
  static const struct option options[] = {
    { "pin", required_argument, NULL, 'p' },
    { "touch", required_argument, NULL, 't' },
    { "protocol", required_argument, NULL, 'P' },
    { "ctap20", no_argument, NULL, '0' },
    { "uhid-fd", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    {},
  };
  SoftFido2Config config;
  const char *pin = NULL;
  int inherited_fd = -1;
  Context c = { .uhid_fd = -1, .signal_fd = -1 };
  struct uhid_event destroy = { .type = UHID_DESTROY };
  sigset_t mask;
  int opt, ret = EXIT_FAILURE;

  soft_fido2_config_default (&config);
  while ((opt = getopt_long (argc, argv, "h", options, NULL)) >= 0)
    switch (opt)
      {
      case 'p':
        pin = optarg;
        break;
      case 't':
        if (strcmp (optarg, "auto") == 0)
          config.presence = SOFT_FIDO2_PRESENCE_ALWAYS;
        else if (strcmp (optarg, "signal") == 0)
          config.presence = SOFT_FIDO2_PRESENCE_TOUCH;
        else
          {
            usage ();
            return EXIT_FAILURE;
          }
        break;
      case 'P':
        config.pin_protocol_1 = strcmp (optarg, "2") != 0;
        config.pin_protocol_2 = strcmp (optarg, "1") != 0;
        break;
      case '0':
        config.ctap21 = false;
        break;
      case 'f':
        inherited_fd = atoi (optarg);
        if (inherited_fd < 0)
          {
            usage ();
            return EXIT_FAILURE;
          }
        break;
      case 'h':
        usage ();
        return EXIT_SUCCESS;
      default:
        usage ();
        return EXIT_FAILURE;
      }

  c.sk = soft_fido2_new (&config);
  if (c.sk == NULL || (pin != NULL && soft_fido2_set_pin_direct (c.sk, pin) < 0))
    {
      fprintf (stderr, "imprint-soft-fido2: cannot set up the authenticator\n");
      goto finish;
    }
  c.hid = soft_ctaphid_new (c.sk, send_report, &c);
  if (c.hid == NULL)
    goto finish;
  soft_fido2_set_wait_touch (c.sk, wait_touch, &c);

  sigemptyset (&mask);
  sigaddset (&mask, SIGUSR1);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  c.signal_fd = signalfd (-1, &mask, SFD_CLOEXEC);

  c.uhid_fd = inherited_fd >= 0 ? inherited_fd : open ("/dev/uhid", O_RDWR | O_CLOEXEC);
  if (c.uhid_fd < 0 || c.signal_fd < 0)
    {
      fprintf (stderr, "imprint-soft-fido2: cannot open /dev/uhid: %m\n");
      goto finish;
    }
  if (create_device (c.uhid_fd) < 0)
    {
      fprintf (stderr, "imprint-soft-fido2: cannot create the HID device: %m\n");
      goto finish;
    }
  printf ("READY\n");
  fflush (stdout);

  while (!c.quit)
    {
      struct pollfd p[2] = {
        { .fd = c.uhid_fd, .events = POLLIN },
        { .fd = c.signal_fd, .events = POLLIN },
      };

      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (p[1].revents & POLLIN && handle_signal (&c))
        soft_fido2_touch (c.sk, 1);  /* an early touch counts for the next test */
      if (p[0].revents & POLLIN)
        handle_uhid_event (&c, false);
    }

  (void) uhid_write (c.uhid_fd, &destroy);
  ret = EXIT_SUCCESS;
finish:
  if (c.uhid_fd >= 0)
    close (c.uhid_fd);
  if (c.signal_fd >= 0)
    close (c.signal_fd);
  soft_ctaphid_free (c.hid);
  soft_fido2_free (c.sk);
  return ret;
}
