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
                            &io_functions, NULL) == FIDO_OK ? 0 : -EIO;
}
