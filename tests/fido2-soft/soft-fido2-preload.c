/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LD_PRELOAD test double for daemons (never installed): FIDO2 device paths
 * starting with "soft:" open an in-process soft authenticator instead of a
 * hidraw node, for hosts without /dev/uhid. One authenticator per path,
 * made on first use and kept for the life of the process, so credentials
 * it made keep working across jobs. Its PIN comes from
 * $IMPRINT_SOFT_FIDO2_PIN (unset: no PIN); presence is always given.
 * Every other path goes to libfido2 unchanged. */
#include <dlfcn.h>
#include <fido.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "soft-fido2-io.h"

#define SOFT_PREFIX "soft:"

typedef struct Key {
  struct Key *next;
  char *path;
  SoftFido2 *sk;
} Key;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Key *keys;

static int
ensure_key (const char *path)
{
  SoftFido2Config config;
  const char *pin = getenv ("IMPRINT_SOFT_FIDO2_PIN");
  Key *k;
  int r = 0;

  pthread_mutex_lock (&lock);
  for (k = keys; k != NULL; k = k->next)
    if (strcmp (k->path, path) == 0)
      goto out;

  k = calloc (1, sizeof (*k));
  soft_fido2_config_default (&config);
  config.presence = SOFT_FIDO2_PRESENCE_ALWAYS;
  if (k == NULL || (k->path = strdup (path)) == NULL || (k->sk = soft_fido2_new (&config)) == NULL)
    {
      if (k != NULL)
        free (k->path);
      free (k);
      r = -1;
      goto out;
    }
  if ((pin != NULL && *pin != '\0' && soft_fido2_set_pin_direct (k->sk, pin) < 0) ||
      soft_fido2_io_register (path, k->sk) < 0)
    {
      soft_fido2_free (k->sk);
      free (k->path);
      free (k);
      r = -1;
      goto out;
    }
  k->next = keys;
  keys = k;
out:
  pthread_mutex_unlock (&lock);
  return r;
}

int
fido_dev_open (fido_dev_t *dev, const char *path)
{
  static int (*real_open) (fido_dev_t *, const char *);

  if (real_open == NULL)
    real_open = (int (*) (fido_dev_t *, const char *)) dlsym (RTLD_NEXT, "fido_dev_open");
  if (real_open == NULL)
    return FIDO_ERR_INTERNAL;

  if (path != NULL && strncmp (path, SOFT_PREFIX, strlen (SOFT_PREFIX)) == 0)
    {
      if (ensure_key (path) < 0)
        return FIDO_ERR_INTERNAL;
      if (fido_dev_set_io_functions (dev, soft_fido2_io_functions ()) != FIDO_OK)
        return FIDO_ERR_INTERNAL;
    }
  return real_open (dev, path);
}
