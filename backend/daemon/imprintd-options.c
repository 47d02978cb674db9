/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checks of caller-named devices and caller-sent secrets, shared by the
 * verbs: done while the call is parsed, before a job starts and before
 * anything is opened, so a refusal is a plain InvalidArgs-type error. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "imprint-error.h"
#include "imprint-fido2.h"
#include "imprintd-methods.h"
#include "secret.h"
#include "tpm2.h"

ImprintTpm2DeviceFlags
imprintd_tpm2_device_flags (guint32 uid)
{
  /* An emulator TCTI lets the caller pick a TCP endpoint that plays the
   * TPM and so learns what is sealed to it; root gains nothing by that. */
  return uid == 0 ? IMPRINT_TPM2_DEVICE_ALLOW_EMULATOR : IMPRINT_TPM2_DEVICE_DEFAULT;
}

gboolean
imprintd_check_tpm2_device (const char *device, guint32 uid, GError **error)
{
  int r;

  r = imprint_tpm2_device_check (device, imprintd_tpm2_device_flags (uid), NULL);
  if (r == -EPERM)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_AUTHORIZED,
                           _("Only the administrator (root) may use a TPM emulator."));
      return FALSE;
    }
  if (r < 0)
    {
      /* The text is not repeated: it is the caller's and may be huge. */
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("This is not a TPM device: use “auto” or a TPM device node "
                             "such as /dev/tpmrm0."));
      return FALSE;
    }
  return TRUE;
}

gboolean
imprintd_check_fido2_device (const char *device, guint32 uid, char **ret_path, GError **error)
{
  g_autofree char *path = NULL;
  int r;

  r = imprint_fido2_device_check (device, uid == 0, &path);
  if (r == -EINVAL)
    {
      g_set_error_literal (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                           _("This is not a security key: use “auto” or a device node such as "
                             "/dev/hidraw0."));
      return FALSE;
    }
  if (r < 0)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_NOT_FOUND,
                   _("“%s” is not a security key (%s)."), device, g_strerror (-r));
      return FALSE;
    }
  *ret_path = g_steal_pointer (&path);
  return TRUE;
}

gboolean
imprintd_check_secret (const char *secret, GError **error)
{
  /* Before anything else sees it: libpwquality and the KDFs take time in
   * proportion to the length, and nobody types more than this. */
  if (secret != NULL && strnlen (secret, IMPRINTD_SECRET_MAX + 1) > IMPRINTD_SECRET_MAX)
    {
      g_set_error (error, IMPRINT_ERROR, IMPRINT_ERROR_INVALID_ARGUMENT,
                   _("Passphrases, PINs and recovery keys may be at most %u bytes long."),
                   (unsigned) IMPRINTD_SECRET_MAX);
      return FALSE;
    }
  return TRUE;
}
