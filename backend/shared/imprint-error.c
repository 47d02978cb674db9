/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>

#include "imprint-error.h"

static const GDBusErrorEntry imprint_error_entries[] = {
  { IMPRINT_ERROR_FAILED,           "dev.imprint.Imprint1.Error.Failed" },
  { IMPRINT_ERROR_NOT_AUTHORIZED,   "dev.imprint.Imprint1.Error.NotAuthorized" },
  { IMPRINT_ERROR_AUTH_DISMISSED,   "dev.imprint.Imprint1.Error.AuthDismissed" },
  { IMPRINT_ERROR_INVALID_ARGUMENT, "dev.imprint.Imprint1.Error.InvalidArgument" },
  { IMPRINT_ERROR_NOT_FOUND,        "dev.imprint.Imprint1.Error.NotFound" },
  { IMPRINT_ERROR_BUSY,             "dev.imprint.Imprint1.Error.Busy" },
  { IMPRINT_ERROR_NOT_SUPPORTED,    "dev.imprint.Imprint1.Error.NotSupported" },
  { IMPRINT_ERROR_CANCELLED,        "dev.imprint.Imprint1.Error.Cancelled" },
  { IMPRINT_ERROR_SOURCE_INVALID,   "dev.imprint.Imprint1.Error.SourceInvalid" },
  { IMPRINT_ERROR_NO_SPACE,         "dev.imprint.Imprint1.Error.NoSpace" },
  { IMPRINT_ERROR_UNAVAILABLE,      "dev.imprint.Imprint1.Error.Unavailable" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (imprint_error_entries) == IMPRINT_ERROR_N_ERRORS);

GQuark
imprint_error_quark (void)
{
  static gsize quark = 0;

  /* Registering the names makes GDBus map them both ways, in the daemon
   * and in every client that links this file. */
  g_dbus_error_register_error_domain ("imprint-error-quark", &quark,
                                      imprint_error_entries,
                                      G_N_ELEMENTS (imprint_error_entries));
  return (GQuark) quark;
}

const char *
imprint_error_to_dbus_name (ImprintError code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (imprint_error_entries); i++)
    if (imprint_error_entries[i].error_code == (gint) code)
      return imprint_error_entries[i].dbus_error_name;
  return imprint_error_entries[0].dbus_error_name;
}

ImprintError
imprint_error_from_errno (int err)
{
  switch (abs (err))
    {
    case EPERM:
    case EACCES:
      return IMPRINT_ERROR_NOT_AUTHORIZED;
    case EINVAL:
    case EBADMSG:
      return IMPRINT_ERROR_INVALID_ARGUMENT;
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return IMPRINT_ERROR_NOT_FOUND;
    case EBUSY:
      return IMPRINT_ERROR_BUSY;
    case EOPNOTSUPP:
    case ENOSYS:
      return IMPRINT_ERROR_NOT_SUPPORTED;
    case ECANCELED:
      return IMPRINT_ERROR_CANCELLED;
    case ENOSPC:
    case EFBIG:
      return IMPRINT_ERROR_NO_SPACE;
    default:
      return IMPRINT_ERROR_FAILED;
    }
}

/* A remote GError carries "GDBus.Error:name: " in front of its message when
 * the name is not registered; registered ones do not, but strip anyway so a
 * person never reads a D-Bus error name. */
void
imprint_error_strip_remote (GError *error)
{
  if (error != NULL && g_dbus_error_is_remote_error (error))
    g_dbus_error_strip_remote_error (error);
}
