/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "soft-fido2-io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "soft-ctaphid.h"

typedef struct Registration {
  struct Registration *next;
  char *path;
  SoftFido2 *sk;
} Registration;

static Registration *registrations;

typedef struct {
  SoftCtapHid *hid;
  uint32_t cid;            /* channel, for the transport functions */
  uint8_t (*queue)[SOFT_CTAPHID_REPORT_LEN];
  size_t head, tail, allocated;
} Handle;

int
soft_fido2_io_register (const char *path, SoftFido2 *sk)
{
  Registration *r = calloc (1, sizeof (*r));

  if (r == NULL || (r->path = strdup (path)) == NULL)
    {
      free (r);
      return -ENOMEM;
    }
  r->sk = sk;
  r->next = registrations;
  registrations = r;
  return 0;
}

void
soft_fido2_io_unregister (const char *path)
{
  for (Registration **p = &registrations; *p != NULL; p = &(*p)->next)
    if (strcmp ((*p)->path, path) == 0)
      {
        Registration *r = *p;
        *p = r->next;
        free (r->path);
        free (r);
        return;
      }
}

static void
queue_report (const uint8_t report[SOFT_CTAPHID_REPORT_LEN], void *userdata)
{
  Handle *h = userdata;

  if (h->tail == h->allocated)
    {
      size_t n = h->allocated ? h->allocated * 2 : 16;
      void *q = realloc (h->queue, n * SOFT_CTAPHID_REPORT_LEN);
      if (q == NULL)
        return;   /* the host will see a short read and fail */
      h->queue = q;
      h->allocated = n;
    }
  memcpy (h->queue[h->tail++], report, SOFT_CTAPHID_REPORT_LEN);
}

/* Nobody can touch an in-process key while libfido2 waits: tell the host a
 * touch is needed, then time out. Tests arm touches beforehand. */
static bool
wait_touch (SoftFido2 *sk, void *userdata)
{
  Handle *h = userdata;

  soft_ctaphid_send_keepalive (h->hid, 2);
  return false;
}

static void *
io_open (const char *path)
{
  Handle *h;

  for (Registration *r = registrations; r != NULL; r = r->next)
    if (strcmp (r->path, path) == 0)
      {
        h = calloc (1, sizeof (*h));
        if (h == NULL)
          return NULL;
        h->cid = 0xffffffffU;
        h->hid = soft_ctaphid_new (r->sk, queue_report, h);
        if (h->hid == NULL)
          {
            free (h);
            return NULL;
          }
        soft_fido2_set_wait_touch (r->sk, wait_touch, h);
        return h;
      }
  return NULL;
}

static void
io_close (void *handle)
{
  Handle *h = handle;

  soft_fido2_set_wait_touch (soft_ctaphid_get_authenticator (h->hid), NULL, NULL);
  soft_ctaphid_free (h->hid);
  free (h->queue);
  free (h);
}

static int
io_read (void *handle, unsigned char *buf, size_t len, int ms)
{
  Handle *h = handle;

  if (h->head == h->tail || len != SOFT_CTAPHID_REPORT_LEN)
    return -1;
  memcpy (buf, h->queue[h->head++], SOFT_CTAPHID_REPORT_LEN);
  if (h->head == h->tail)
    h->head = h->tail = 0;
  return SOFT_CTAPHID_REPORT_LEN;
}

static int
io_write (void *handle, const unsigned char *buf, size_t len)
{
  Handle *h = handle;

  /* libfido2 writes a report ID byte (0) first, as hidraw expects. */
  if (len != SOFT_CTAPHID_REPORT_LEN + 1)
    return -1;
  soft_ctaphid_handle_report (h->hid, buf + 1);
  return (int) len;
}

/* ---- transport functions: CTAPHID framing done here instead of in
 * libfido2, as a device listed with fido_dev_info_set() needs them ---- */

#define CTAPHID_INIT 0x06
#define CTAPHID_KEEPALIVE 0x3B

static void
put_cid (uint8_t *p, uint32_t cid)
{
  p[0] = (uint8_t) (cid >> 24);
  p[1] = (uint8_t) (cid >> 16);
  p[2] = (uint8_t) (cid >> 8);
  p[3] = (uint8_t) cid;
}

static uint32_t
get_cid (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static int
transport_tx (fido_dev_t *dev, uint8_t cmd, const unsigned char *buf, size_t count)
{
  Handle *h = fido_dev_io_handle (dev);
  uint8_t report[SOFT_CTAPHID_REPORT_LEN];
  uint32_t cid;
  size_t off, n;

  if (h == NULL || count > UINT16_MAX)
    return -1;
  cid = cmd == CTAPHID_INIT ? 0xffffffffU : h->cid;

  memset (report, 0, sizeof (report));
  put_cid (report, cid);
  report[4] = 0x80 | cmd;
  report[5] = (uint8_t) (count >> 8);
  report[6] = (uint8_t) count;
  n = count < SOFT_CTAPHID_REPORT_LEN - 7 ? count : SOFT_CTAPHID_REPORT_LEN - 7;
  if (n > 0)
    memcpy (report + 7, buf, n);
  off = n;
  soft_ctaphid_handle_report (h->hid, report);
  for (uint8_t seq = 0; off < count; seq++)
    {
      memset (report, 0, sizeof (report));
      put_cid (report, cid);
      report[4] = seq;
      n = count - off < SOFT_CTAPHID_REPORT_LEN - 5 ? count - off : SOFT_CTAPHID_REPORT_LEN - 5;
      memcpy (report + 5, buf + off, n);
      off += n;
      soft_ctaphid_handle_report (h->hid, report);
    }
  return (int) count;
}

static int
transport_rx (fido_dev_t *dev, uint8_t cmd, unsigned char *buf, size_t count, int ms)
{
  Handle *h = fido_dev_io_handle (dev);
  uint8_t report[SOFT_CTAPHID_REPORT_LEN];
  size_t len, have, n;
  uint32_t cid;

  if (h == NULL)
    return -1;
  do
    if (io_read (h, report, sizeof (report), ms) < 0)
      return -1;
  while (report[4] == (0x80 | CTAPHID_KEEPALIVE));

  if (report[4] != (0x80 | cmd))
    return -1;
  cid = get_cid (report);
  len = (size_t) report[5] << 8 | report[6];
  if (len > count)
    return -1;
  n = len < SOFT_CTAPHID_REPORT_LEN - 7 ? len : SOFT_CTAPHID_REPORT_LEN - 7;
  memcpy (buf, report + 7, n);
  have = n;
  for (uint8_t seq = 0; have < len; seq++)
    {
      if (io_read (h, report, sizeof (report), ms) < 0 || get_cid (report) != cid || report[4] != seq)
        return -1;
      n = len - have < SOFT_CTAPHID_REPORT_LEN - 5 ? len - have : SOFT_CTAPHID_REPORT_LEN - 5;
      memcpy (buf + have, report + 5, n);
      have += n;
    }

  /* remember the channel the key gave us */
  if (cmd == CTAPHID_INIT && len == 17)
    h->cid = get_cid (buf + 8);
  return (int) len;
}

static const fido_dev_transport_t transport_functions = {
  .rx = transport_rx,
  .tx = transport_tx,
};

static const fido_dev_io_t io_functions = {
  .open = io_open,
  .close = io_close,
  .read = io_read,
  .write = io_write,
};

const fido_dev_io_t *
soft_fido2_io_functions (void)
{
  return &io_functions;
}

int
soft_fido2_io_open (const char *path, fido_dev_t **ret)
{
  fido_dev_t *dev = fido_dev_new ();
  int r;

  if (dev == NULL)
    return -ENOMEM;
  r = fido_dev_set_io_functions (dev, &io_functions);
  if (r == FIDO_OK)
    r = fido_dev_open (dev, path);
  if (r != FIDO_OK)
    {
      fido_dev_free (&dev);
      return -EIO;
    }
  *ret = dev;
  return 0;
}

int
soft_fido2_io_dev_info (fido_dev_info_t *list, size_t i, const char *path)
{
  return fido_dev_info_set (list, i, path, "Imprint test", "Soft FIDO2 key",
                            &io_functions, &transport_functions) == FIDO_OK ? 0 : -EIO;
}
