/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The core of the FIDO2 code (libfido2): errors and their messages, PIN
 * prompts and retries, a device's features, finding and opening the one
 * key to use. Enrolling is fido2-enroll.c, unlocking fido2-unlock.c, the
 * list of keys fido2-devices.c. */

#include "fido2-private.h"
#include "config.h"

#include "json-bounded.h"
#include "imprint-fido2.h"
#include "fido2-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "macros.h"
#include "secret.h"

/* ---- small helpers ---- */

void
imprint_fido2_fido_init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      fido_init (0);
      g_once_init_leave (&done, 1);
    }
}

static int
fido_error_to_errno (int r)
{
  switch (r)
    {
    case FIDO_OK:
      return 0;
    case FIDO_ERR_NO_CREDENTIALS:
      return -EBADSLT;
    case FIDO_ERR_PIN_REQUIRED:
      return -ENOANO;
    case FIDO_ERR_PIN_INVALID:
      return -ENOLCK;
    case FIDO_ERR_PIN_AUTH_BLOCKED:
#ifdef FIDO_ERR_UV_BLOCKED
    case FIDO_ERR_UV_BLOCKED:
#endif
      return -EOWNERDEAD;
    case FIDO_ERR_PIN_BLOCKED:
      return -EKEYREVOKED;
    case FIDO_ERR_ACTION_TIMEOUT:
    case FIDO_ERR_USER_ACTION_TIMEOUT:
      return -ENOSTR;
    case FIDO_ERR_UNSUPPORTED_ALGORITHM:
      return -EOPNOTSUPP;
    case FIDO_ERR_KEEPALIVE_CANCEL:
      return -ECANCELED;
    case FIDO_ERR_UP_REQUIRED:
      return -EMEDIUMTYPE;
    default:
      return -EIO;
    }
}

int
imprint_fido2_fido_fail (const char *what, int r)
{
  g_debug ("FIDO2: %s: %s", what, fido_strerr (r));
  return fido_error_to_errno (r);
}

const char *
imprint_fido2_strerror (int r)
{
  switch (r)
    {
    case -ENODEV:
      return _("No FIDO2 security key was found.");
    case -ENOTUNIQ:
      return _("More than one security key is plugged in: choose one or remove the others.");
    case -EOPNOTSUPP:
      return _("This security key does not support the hmac-secret extension or the ES256 algorithm needed for unlocking.");
    case -EHWPOISON:
      return _("This security key lacks a feature the credential needs (PIN, touch or user verification).");
    case -ENOANO:
      return _("The security key needs its PIN.");
    case -ENOLCK:
      return _("The security key PIN is wrong.");
    case -EOWNERDEAD:
      return _("Too many wrong PINs in a row: remove the security key, plug it in again and retry.");
    case -EKEYREVOKED:
      return _("The security key PIN is blocked. The key must be reset, which erases its credentials.");
    case -ENOSTR:
      return _("The security key was not touched in time.");
    case -EBADSLT:
      return _("This security key does not hold the credential: it is a different key.");
    case -ECANCELED:
      return _("The security key operation was cancelled.");
    case -EMEDIUMTYPE:
      return _("The security key requires a touch.");
    case -EIO:
      return _("The security key reported an error.");
    default:
      return NULL;
    }
}

/* ---- prompts ---- */

static int
ask_pin (const ImprintFido2Prompter *p, const char *message, char **ret)
{
  char *answer = NULL;
  int r;

  if (p->func == NULL)
    return -ENOANO;
  r = p->func (IMPRINT_FIDO2_PROMPT_PIN, message, &answer, p->userdata);
  if (r < 0)
    {
      imprint_secret_freep (&answer);
      return r;
    }
  if (answer == NULL)
    return -ECANCELED;
  *ret = answer;
  return 0;
}

int
imprint_fido2_notify_touch (const ImprintFido2Prompter *p, const char *message)
{
  if (p->func == NULL)
    return 0;
  return p->func (IMPRINT_FIDO2_PROMPT_TOUCH, message, NULL, p->userdata);
}

/* Runs op with a PIN, asking again while it is wrong. *io_pin is a PIN known
 * already (tried first) or NULL; on return it holds the PIN last tried.
 * Returns a negative errno when asking failed, else 0 with the libfido2
 * result of the last attempt in *ret_fido. */
int
imprint_fido2_run_with_pin (fido_dev_t *dev, const ImprintFido2Prompter *p, const char *touch_message,
              ImprintFido2PinOperation op, void *data, char **io_pin, int *ret_fido)
{
  g_autofree char *message = g_strdup (_("Please enter the PIN of the security key."));
  int r, fr;

  for (;;)
    {
      if (*io_pin == NULL)
        {
          r = ask_pin (p, message, io_pin);
          if (r < 0)
            return r;
          if ((*io_pin)[0] == '\0')
            {
              imprint_secret_freep (io_pin);
              g_free (message);
              message = g_strdup (_("The PIN may not be empty. Please enter the PIN of the security key."));
              continue;
            }
        }

      if (touch_message != NULL)
        {
          r = imprint_fido2_notify_touch (p, touch_message);
          if (r < 0)
            return r;
        }

      fr = op (dev, *io_pin, data);
      if (fr != FIDO_ERR_PIN_INVALID || p->func == NULL)
        {
          *ret_fido = fr;
          return 0;
        }

      imprint_secret_freep (io_pin);
      {
        int retries = -1;

        g_free (message);
        if (fido_dev_get_retry_count (dev, &retries) == FIDO_OK && retries >= 0)
          message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                  "Wrong PIN, %d attempt left. Please enter the PIN of the security key.",
                                                  "Wrong PIN, %d attempts left. Please enter the PIN of the security key.",
                                                  retries),
                                     retries);
        else
          message = g_strdup (_("Wrong PIN. Please enter the PIN of the security key."));
      }
    }
}

/* ---- devices ---- */

int
imprint_fido2_get_features (fido_dev_t *dev, ImprintFido2Features *ret)
{
  _cleanup_(imprint_fido2_fido_cbor_info_freep) fido_cbor_info_t *info = NULL;
  /* Defaults when an option is absent: CTAP 2.0 section 5.4 (up is on). */
  ImprintFido2Features f = { .up = true };
  char **names;
  const bool *values;
  int r;

  f.fido2 = fido_dev_is_fido2 (dev);
  if (!f.fido2)
    {
      *ret = (ImprintFido2Features) { 0 };
      return 0;
    }

  info = fido_cbor_info_new ();
  if (info == NULL)
    return -ENOMEM;
  r = fido_dev_get_cbor_info (dev, info);
  if (r != FIDO_OK)
    return imprint_fido2_fido_fail ("getInfo", r);

  names = fido_cbor_info_extensions_ptr (info);
  for (size_t i = 0; i < fido_cbor_info_extensions_len (info); i++)
    if (g_str_equal (names[i], "hmac-secret"))
      f.hmac_secret = true;

  names = fido_cbor_info_options_name_ptr (info);
  values = fido_cbor_info_options_value_ptr (info);
  for (size_t i = 0; i < fido_cbor_info_options_len (info); i++)
    {
      if (g_str_equal (names[i], "rk"))
        f.rk = values[i];
      else if (g_str_equal (names[i], "clientPin"))
        f.client_pin = values[i];
      else if (g_str_equal (names[i], "up"))
        f.up = values[i];
      else if (g_str_equal (names[i], "uv"))
        f.uv = values[i];
    }

  *ret = f;
  return 0;
}

static int
find_single_device (char **ret_path)
{
  fido_dev_info_t *list;
  size_t found = 0;
  int r;

  list = fido_dev_info_new (MAX_DEVICES);
  if (list == NULL)
    return -ENOMEM;
  r = fido_dev_info_manifest (list, MAX_DEVICES, &found);
  if (r != FIDO_OK && r != FIDO_ERR_INTERNAL)   /* INTERNAL: what 1.12 says for "none" */
    r = imprint_fido2_fido_fail ("manifest", r);
  else if (found == 0)
    r = -ENODEV;
  else if (found > 1)
    r = -ENOTUNIQ;
  else
    {
      *ret_path = g_strdup (fido_dev_info_path (fido_dev_info_ptr (list, 0)));
      r = 0;
    }
  fido_dev_info_free (&list, MAX_DEVICES);
  return r;
}

/* The device to use: the caller's, or one opened here (then owned by
 * *ret_owned, closed by the caller's cleanup). */
int
imprint_fido2_acquire_device (fido_dev_t *given, const char *path, fido_dev_t **ret_owned, fido_dev_t **ret_dev)
{
  g_autofree char *found = NULL;
  fido_dev_t *dev;
  int r;

  imprint_fido2_fido_init_once ();

  if (given != NULL)
    {
      *ret_dev = given;
      return 0;
    }

  if (path == NULL)
    {
      r = find_single_device (&found);
      if (r < 0)
        return r;
      path = found;
    }

  dev = fido_dev_new ();
  if (dev == NULL)
    return -ENOMEM;
  r = fido_dev_open (dev, path);
  if (r != FIDO_OK)
    {
      fido_dev_free (&dev);
      g_debug ("FIDO2: cannot open %s: %s", path, fido_strerr (r));
      return -ENODEV;
    }
  *ret_owned = dev;
  *ret_dev = dev;
  return 0;
}

/* The device to use and what it supports, refused unless it can do what
 * Imprint needs: -ENODEV when it is no FIDO2 device, -EOPNOTSUPP without
 * the hmac-secret extension. */
int
imprint_fido2_acquire_hmac_device (fido_dev_t *given, const char *path, fido_dev_t **ret_owned,
                                   fido_dev_t **ret_dev, ImprintFido2Features *ret_features)
{
  int r;

  r = imprint_fido2_acquire_device (given, path, ret_owned, ret_dev);
  if (r < 0)
    return r;
  r = imprint_fido2_get_features (*ret_dev, ret_features);
  if (r < 0)
    return r;
  if (!ret_features->fido2)
    return -ENODEV;
  if (!ret_features->hmac_secret)
    return -EOPNOTSUPP;
  return 0;
}

int
imprint_fido2_open_device (const char *path, fido_dev_t **ret)
{
  fido_dev_t *owned = NULL, *dev;
  int r;

  g_return_val_if_fail (ret != NULL, -EINVAL);

  r = imprint_fido2_acquire_device (NULL, path, &owned, &dev);
  if (r < 0)
    return r;
  *ret = owned;
  return 0;
}
