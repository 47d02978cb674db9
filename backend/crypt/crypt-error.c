/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "crypt-error.h"
#include "imprint-fido2.h"

const char *
imprint_crypt_strerror (int r)
{
  switch (-r)
    {
    case ENODEV:
      return _("No TPM2 device was found.");
    case ESTALE:
      return _("The TPM refused to unseal the key: the measured boot state changed.");
    case ENOLCK:
      return _("The TPM is in lockout after too many wrong PINs: clear it in the firmware setup or wait.");
    case EPERM:
      return _("The PIN is wrong.");
    case ENOSPC:
      return _("The partition is too small to be encrypted.");
    case EOWNERDEAD:
    case EKEYREVOKED:
    case ENOSTR:
    case EBADSLT:
    case ENOANO:
      return imprint_fido2_strerror (r);
    case ECANCELED:
      return _("The operation was cancelled.");
    case EINVAL:
      return _("An unlock setting is not valid.");
    default:
      return g_strerror (-r);
    }
}

ImprintError
imprint_crypt_error_code (int r)
{
  switch (-r)
    {
    case ENODEV:
    case ESTALE:
    case ENOLCK:
    case EOWNERDEAD:
    case EKEYREVOKED:
    case ENOSTR:
    case EBADSLT:
    case ENOANO:
      return IMPRINT_ERROR_UNAVAILABLE;
    default:
      return imprint_error_from_errno (r);
    }
}
